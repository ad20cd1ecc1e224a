#!/usr/bin/env python3
"""A threaded TCP echo server next to N threads computing fib, under the interpreter's real GIL.

The Python twin of convoy-server's `threads` model: socketserver.ThreadingTCPServer gives one
thread per connection looping recv -> sendall, and the fib threads keep the GIL busy. Runs under
CPython 3, PyPy 3 and CPython 2.7, so every interpreter on the machine is measured by one script.
Prints `listening 127.0.0.1:PORT` once it accepts connections; SIGTERM/SIGINT end it.
"""
from __future__ import print_function

import argparse
import os
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no compiled files beside the scripts
from fib_threads import add_server_arguments, start_fib_threads

try:
    import socketserver
except ImportError:  # Python 2
    import SocketServer as socketserver


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                data = sock.recv(65536)
            except socket.error:
                return
            if not data:
                return
            try:
                sock.sendall(data)
            except socket.error:
                return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_server_arguments(parser)
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="seconds, for sys.setswitchinterval (Python 3)")
    parser.add_argument("--check-interval", type=int, default=None,
                        help="ticks, for sys.setcheckinterval (Python 2)")
    args = parser.parse_args()

    if args.switch_interval is not None:
        if not hasattr(sys, "setswitchinterval"):
            parser.error("this interpreter has no sys.setswitchinterval")
        sys.setswitchinterval(args.switch_interval)
    if args.check_interval is not None:
        if not hasattr(sys, "setcheckinterval"):
            parser.error("this interpreter has no sys.setcheckinterval")
        sys.setcheckinterval(args.check_interval)

    server = Server((args.bind, args.port), EchoHandler)
    calls = start_fib_threads(args.cpu_threads, args.fib_depth)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if args.duration > 0:
        timer = threading.Timer(args.duration, lambda: os.kill(os.getpid(), signal.SIGTERM))
        timer.daemon = True
        timer.start()

    print("listening %s:%d" % server.server_address[:2])
    sys.stdout.flush()
    started = time.time()
    try:
        # socketserver's own default, and the emulated accept loop's: the main thread wakes
        # twice a second and then wants the lock, on both sides alike.
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    elapsed = time.time() - started
    sys.stderr.write("fib(%d) computations: %d in %.1f s\n" % (args.fib_depth, calls[0], elapsed))
    sys.stderr.flush()
    # Daemon threads may hold the GIL forever; leave without waiting for them.
    os._exit(0)


if __name__ == "__main__":
    main()
