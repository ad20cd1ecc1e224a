"""The CPU side of the reference servers: fib, the threads that compute it, and the options both
servers share. Imported by echo_server.py (CPython 2.7 and 3, PyPy) and echo_asyncio.py (3.6+),
so it stays valid Python 2.7. calibrate.py measures this fib.
"""
import threading


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def burn(depth, calls):
    while True:
        fib(depth)
        calls[0] += 1


def start_fib_threads(count, depth):
    """Starts `count` daemon threads computing fib(depth) forever; returns their shared counter
    of finished computations ([n])."""
    calls = [0]
    for _ in range(count):
        t = threading.Thread(target=burn, args=(depth, calls))
        t.daemon = True
        t.start()
    return calls


def add_server_arguments(parser):
    """The options every reference server takes: where to listen and what the fib threads do."""
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu-threads", type=int, default=1)
    parser.add_argument("--fib-depth", type=int, default=20)
    parser.add_argument("--duration", type=float, default=0, help="seconds; 0 = until signalled")
