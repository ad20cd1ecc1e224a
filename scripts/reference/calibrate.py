"""Measures, under the Python that runs it, what convoy's cost model stands for.

Prints one JSON object on stdout:
  ns_per_call       CPU time of one fib call (fib(depth) in a loop, process CPU clock)
  opcodes_per_call  bytecode instructions one fib call executes
  ticks_per_call    of those, the ones CPython 2 counts against sys.setcheckinterval
  handler_opcodes   instructions the echo handler (echo_server.py) executes per message,
  handler_ticks     and its ticks, both without the socket calls themselves
  socket_call_ns    user CPU time of one socket call (recv or sendall) outside the system call
                    and outside its instructions: the socket module's C work (see below)
  method            how the instructions were counted
Runs under CPython 2.7 and 3.x (scripts/calibrate.sh turns the numbers into a server profile).

Counting. From 3.7 on, opcode tracing (frame.f_trace_opcodes) reports every instruction. Before
that, line tracing says which lines ran, and each line's instructions are read off its bytecode:
fib and the handler have no loop inside a line, so a line's instructions all run when it runs.

Ticks (CPython 2.7's Python/ceval.c): the ticker is decremented at the top of the eval loop, which
an instruction reaches with `continue`; LOAD_FAST, LOAD_CONST, STORE_FAST, POP_TOP, the ROT and
DUP family, NOP and JUMP_FORWARD go to fast_next_opcode and skip it, and so do POP_JUMP_IF_*
after a COMPARE_OP (PREDICT jumps straight to them, and they see a bool). RETURN_VALUE leaves the
frame without it. Entering a frame passes the top of the loop once: one tick.

Socket calls. Around its system call a socket method does C work holding the lock: it parses its
arguments, sock.recv(65536) allocates a 64 KiB result before the call and shrinks it after,
sendall takes a buffer view of its argument. None of it passes a check point. It is measured as
user CPU time (the process's, from getrusage: the kernel's share of each call is system time) of
a ping-pong over a socketpair between two threads, less what the loop's own instructions cost at
the fib call's cost per instruction. Two threads, as in a server: each call comes after a thread
switch, with cold caches and the lock changing hands, and costs about three times what it does
in a loop of one thread. The lock's own uncontended work is counted in, tens of nanoseconds that
the emulated lock then spends again.
"""
from __future__ import division, print_function

import dis
import json
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no compiled files beside the scripts
import echo_server  # noqa: E402  (the handler the reference runs measure)
import fib_threads  # noqa: E402  (their fib)

FAST = set(["NOP", "LOAD_FAST", "LOAD_CONST", "STORE_FAST", "POP_TOP", "ROT_TWO", "ROT_THREE",
            "ROT_FOUR", "DUP_TOP", "DUP_TOPX", "JUMP_FORWARD", "RETURN_VALUE"])
PREDICTED = set(["POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE"])


def fib_calls(depth):
    """How many calls fib(depth) makes, itself included."""
    a, b = 1, 1  # calls of fib(0), fib(1)
    for _ in range(depth - 1):
        a, b = b, a + b + 1
    return b if depth > 0 else 1


def cpu_seconds():
    t = os.times()
    return t[0] + t[1]


def ns_per_call(depth, seconds):
    """Median over five rounds of the CPU time per fib call, each round at least seconds/5."""
    per_round = seconds / 5.0
    calls = fib_calls(depth)
    rounds = []
    for _ in range(5):
        n = 0
        start = cpu_seconds()
        while True:
            fib_threads.fib(depth)
            n += 1
            used = cpu_seconds() - start
            if used >= per_round:
                break
        rounds.append(used * 1e9 / (n * calls))
    rounds.sort()
    return rounds[2]


def instructions(code):
    """(offset, opname) of every instruction of code, in order, under 2.7 and 3.x."""
    if hasattr(dis, "get_instructions"):
        return [(i.offset, i.opname) for i in dis.get_instructions(code)]
    out, raw, i = [], bytearray(code.co_code), 0
    while i < len(raw):
        op = raw[i]
        out.append((i, dis.opname[op]))
        i += 3 if op >= dis.HAVE_ARGUMENT else 1
    return out


def ticking(ops):
    """How many of the instructions ops (names, in execution order) tick in CPython 2.7."""
    ticks = 0
    previous = None
    for name in ops:
        if name in FAST or (name in PREDICTED and previous == "COMPARE_OP"):
            pass
        else:
            ticks += 1
        previous = name
    return ticks


def lines_of(code):
    """{line: [opname, ...]} for code, from its line table."""
    starts = list(dis.findlinestarts(code))
    ops = instructions(code)
    out = {}
    for k, (offset, line) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else float("inf")
        out.setdefault(line, []).extend(n for o, n in ops if offset <= o < end)
    return out


class Tracer(object):
    """Counts the instructions run in frames of `code`: opcode events where the interpreter has
    them, else line events expanded through the line table. Also counts entries of `code`."""

    def __init__(self, code):
        self.code = code
        self.by_opcode = sys.version_info >= (3, 7)
        self.lines = None if self.by_opcode else lines_of(code)
        self.sequence = []  # opnames, in execution order
        self.entries = 0
        self.offsets = dict(instructions(code)) if self.by_opcode else None

    def __call__(self, frame, event, arg):
        if frame.f_code is not self.code:
            return None
        if event == "call":
            self.entries += 1
            if self.by_opcode:
                frame.f_trace_opcodes = True
                frame.f_trace_lines = False
            return self.local
        return None

    def local(self, frame, event, arg):
        if event == "opcode":
            name = self.offsets.get(frame.f_lasti)
            if name is not None and name != "CACHE":
                self.sequence.append(name)
        elif event == "line" and not self.by_opcode:
            self.sequence.extend(self.lines.get(frame.f_lineno, []))
        return self.local

    def run(self, f, *args):
        sys.settrace(self)
        try:
            f(*args)
        finally:
            sys.settrace(None)
        return self


class StubSocket(object):
    """Gives `messages` messages to recv, then end of file; sendall takes anything."""

    def __init__(self, messages):
        self.left = messages

    def setsockopt(self, *args):
        pass

    def recv(self, size):
        if self.left == 0:
            return b""
        self.left -= 1
        return b"x" * 100

    def sendall(self, data):
        pass


class Handler(object):
    def __init__(self, messages):
        self.request = StubSocket(messages)


def handler_per_message():
    """(instructions, ticks) of the echo handler per message: the difference between 40 and 20
    messages, so that entering and leaving the handler cancel out."""
    handle = echo_server.EchoHandler.handle
    handle = getattr(handle, "__func__", handle)
    counts = []
    for messages in (20, 40):
        tracer = Tracer(handle.__code__).run(handle, Handler(messages))
        counts.append((len(tracer.sequence), ticking(tracer.sequence)))
    return ((counts[1][0] - counts[0][0]) / 20.0, (counts[1][1] - counts[0][1]) / 20.0)


def ping_pong(a, b, message, n):
    """n round trips between the two ends of a socketpair in one thread: per round trip two
    messages, each one sendall and one recv, the calls the echo handler makes per message. Only
    its instructions are counted; the timed ping-pong runs in two threads."""
    for _ in range(n):
        a.sendall(message)
        data = b.recv(65536)
        b.sendall(data)
        a.recv(65536)


def echo(b):
    """The server's side of the timed ping-pong: echoes until the peer shuts its side down."""
    while True:
        data = b.recv(65536)
        if not data:
            return
        b.sendall(data)


def user_seconds():
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def socket_call_user_ns(seconds):
    """User CPU time per socket call of a ping-pong over a socketpair between this thread and
    an echoing one, for `seconds` of wall time (three at least). Two threads, because that is
    how the calls run in a server: each after a thread switch, its data cold in the caches, the
    lock changing hands (about three times the cost of the same calls in a loop of one thread).
    The kernel samples user against system time at its tick and splits a process's CPU time in
    the proportion of all its samples so far, so this must run first, before the fib rounds
    (pure user time) tilt that proportion, and its round trips are pooled, not each timed."""
    seconds = max(seconds, 3.0)
    a, b = socket.socketpair()
    try:
        message = b"x" * 100
        server = threading.Thread(target=echo, args=(b,))
        server.start()
        trips = 0
        start_user, start_wall = user_seconds(), time.time()
        try:
            while time.time() - start_wall < seconds:
                for _ in range(1000):
                    a.sendall(message)
                    a.recv(65536)
                trips += 1000
        finally:
            a.shutdown(socket.SHUT_WR)
            server.join()
        used = user_seconds() - start_user
    finally:
        a.close()
        b.close()
    return used * 1e9 / (trips * 4)


def ping_pong_opcodes_per_call():
    """Instructions the ping-pong loop executes per socket call (counted in one thread)."""
    a, b = socket.socketpair()
    try:
        counts = [len(Tracer(ping_pong.__code__).run(ping_pong, a, b, b"x" * 100, n).sequence)
                  for n in (20, 40)]
    finally:
        a.close()
        b.close()
    return (counts[1] - counts[0]) / 20.0 / 4


def main():
    depth = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    socket_user_ns = socket_call_user_ns(seconds)  # first: see its docstring
    traced_depth = min(depth, 12)
    tracer = Tracer(fib_threads.fib.__code__).run(fib_threads.fib, traced_depth)
    calls = tracer.entries
    opcodes = len(tracer.sequence) / calls
    ticks = (ticking(tracer.sequence) + calls) / calls  # one tick per frame entry
    handler_opcodes, handler_ticks = handler_per_message()
    fib_ns = ns_per_call(depth, seconds)
    result = {
        "fib_depth": depth,
        "calls_per_fib": fib_calls(depth),
        "ns_per_call": fib_ns,
        # The socket calls' C work: their user time less the loop's instructions at fib's cost.
        "socket_call_ns": max(0.0, socket_user_ns
                              - ping_pong_opcodes_per_call() * fib_ns / opcodes),
        "opcodes_per_call": opcodes,
        "ticks_per_call": ticks,
        "handler_opcodes": handler_opcodes,
        "handler_ticks": handler_ticks,
        "traced_calls": calls,
        "method": "opcode tracing" if tracer.by_opcode else "line tracing and the line table",
    }
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
