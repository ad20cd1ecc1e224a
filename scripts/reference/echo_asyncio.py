#!/usr/bin/env python3
"""An asyncio TCP echo server next to N threads computing fib, under the interpreter's real GIL.

The Python twin of convoy-server's `eventloop` model: one selector event loop (epoll on Linux)
serves every connection with a Protocol that writes back what data_received gets, while the fib
threads keep the GIL busy. Runs under CPython 3.6+ and PyPy 3. Prints `listening 127.0.0.1:PORT`
once it accepts connections; SIGTERM/SIGINT end it.
"""
import argparse
import asyncio
import os
import signal
import sys
import threading
import time


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def burn(depth, calls):
    while True:
        fib(depth)
        calls[0] += 1


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        # Pause reading while an echo waits to go out, as convoy-server's loop does, so that a
        # peer that never reads cannot make the server buffer without bound.
        transport.set_write_buffer_limits(high=0)

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu-threads", type=int, default=1)
    parser.add_argument("--fib-depth", type=int, default=20)
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="seconds, for sys.setswitchinterval")
    parser.add_argument("--duration", type=float, default=0, help="seconds; 0 = until signalled")
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)

    loop = asyncio.new_event_loop()  # the selector event loop on Linux
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(Echo, args.bind, args.port, reuse_address=True))
    calls = [0]
    for _ in range(args.cpu_threads):
        t = threading.Thread(target=burn, args=(args.fib_depth, calls))
        t.daemon = True
        t.start()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, loop.stop)
    if args.duration > 0:
        loop.call_later(args.duration, loop.stop)

    host, port = server.sockets[0].getsockname()[:2]
    print("listening %s:%d" % (host, port))
    sys.stdout.flush()
    started = time.time()
    loop.run_forever()
    elapsed = time.time() - started
    sys.stderr.write("%s: fib(%d) computations: %d in %.1f s\n"
                     % (type(loop).__name__, args.fib_depth, calls[0], elapsed))
    sys.stderr.flush()
    # Daemon threads may hold the GIL forever; leave without waiting for them.
    os._exit(0)


if __name__ == "__main__":
    main()
