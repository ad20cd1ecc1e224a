# A small fidelity matrix (about a minute per interpreter): one fib thread, 2 ms and no think
# time, the default switch interval, 100-byte messages, two repetitions a side.
cpu_threads="1"
think="0ms 2ms"
switch_interval="5ms"
size="100"
duration="2s"
repetitions="2"
tolerance="0.25"
