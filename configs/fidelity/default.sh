# The default fidelity matrix of scripts/fidelity.sh: every interpreter found against the policy
# that emulates it, over 1 and 2 fib threads, four think times, two switch intervals (for the
# interpreters that have one) and two message sizes: 32 scenarios, two repetitions a side.
cpu_threads="1 2"
think="0ms 0.5ms 2ms 5ms"
switch_interval="5ms 1ms"
size="100 16KiB"
duration="3s"
warmup="0.5s"
repetitions="2"
# A scenario is "ok" when the emulated mean round trip is within 25 % of the real one; py2 is held
# to 50 % (its cost model is coarser: ticks of a fixed cost, where CPython 2.7's vary by opcode).
tolerance="0.25 py2=0.5"
