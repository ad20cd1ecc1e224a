#!/usr/bin/env python3
"""How often the interpreter's fib thread lets another thread have the GIL.

One thread computes fib(depth) in a loop, as in echo_server.py; the main thread sleeps `think`
seconds (a blocking call that releases the GIL) and, woken, waits for the GIL again. Under a
lock whose holder yields every P seconds of its work (PyPy: every `checkinterval` ticks) and whose
countdown starts again at each yield, every turn of the main thread lasts about P. Prints the
median and mean turn, the CPU time per turn (on a busy machine the burner gets less than a core,
and a turn lasts longer than its CPU time), the fib calls per second and per turn, and, for PyPy,
the ticks per fib call and the CPU time per tick that this implies (sys.getcheckinterval() ticks
make one turn).
"""
from __future__ import print_function

import argparse
import sys
import threading
import time


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fib-depth", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.002, help="seconds")
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--switch-interval", type=float, default=None)
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)

    calls = [0]

    def burn():
        while True:
            fib(args.fib_depth)
            calls[0] += 1

    t = threading.Thread(target=burn)
    t.daemon = True
    t.start()
    time.sleep(0.5)  # let the JIT compile the burner
    turns = []
    c0, t0, cpu0 = calls[0], time.time(), time.process_time()
    for _ in range(args.turns):
        start = time.time()
        time.sleep(args.think)
        turns.append(time.time() - start)
    elapsed = time.time() - t0
    cpu = time.process_time() - cpu0  # nearly all the burner's: the main thread sleeps
    made = calls[0] - c0
    turns.sort()
    median = turns[len(turns) // 2]
    mean = sum(turns) / len(turns)
    rate = made / elapsed
    print("median turn %.4f s, mean %.4f s, %d turns; CPU time per turn %.4f s (%.0f %% of a core)"
          % (median, mean, len(turns), cpu / len(turns), 100 * cpu / elapsed))
    print("fib(%d) calls/s %.1f (%.0f recursive calls/s); per mean turn %.2f fib(%d) calls"
          % (args.fib_depth, rate, rate * (2 * fib(args.fib_depth + 1) - 1), rate * mean,
             args.fib_depth))
    if hasattr(sys, "getcheckinterval"):
        ci = sys.getcheckinterval()
        print("checkinterval %d: %.3f ticks per fib(%d) call, %.1f us of CPU time per tick"
              % (ci, ci / (rate * mean), args.fib_depth, cpu / len(turns) / ci * 1e6))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
