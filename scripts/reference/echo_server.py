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

try:
    import socketserver
except ImportError:  # Python 2
    import SocketServer as socketserver


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def burn(depth, calls):
    while True:
        fib(depth)
        calls[0] += 1


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
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu-threads", type=int, default=1)
    parser.add_argument("--fib-depth", type=int, default=20)
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="seconds, for sys.setswitchinterval (Python 3)")
    parser.add_argument("--check-interval", type=int, default=None,
                        help="ticks, for sys.setcheckinterval (Python 2)")
    parser.add_argument("--duration", type=float, default=0, help="seconds; 0 = until signalled")
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
    calls = [0]
    for _ in range(args.cpu_threads):
        t = threading.Thread(target=burn, args=(args.fib_depth, calls))
        t.daemon = True
        t.start()

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
