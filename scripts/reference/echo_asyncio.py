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
import time

sys.dont_write_bytecode = True  # no compiled files beside the scripts
from fib_threads import add_server_arguments, start_fib_threads


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
    add_server_arguments(parser)
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="seconds, for sys.setswitchinterval")
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)

    loop = asyncio.new_event_loop()  # the selector event loop on Linux
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(Echo, args.bind, args.port, reuse_address=True))
    calls = start_fib_threads(args.cpu_threads, args.fib_depth)
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
