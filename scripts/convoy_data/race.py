"""The connection thread's races for the lock, read from a kernel trace: CPython 3's (py3) and
CPython 2.7's semaphore (py2).

scripts/race-trace.sh records, with ftrace, the scheduler events and the futex, sendto and
recvfrom system calls of one echo server's threads while the shared client talks to it (closed
loop, think time between messages). This module reads that text trace and follows the connection
thread message by message:

- after its `send` it takes the lock back; when it has to wait for it (a futex wait of more than
  `long_wait`, a fraction of the switch interval) it lost the race at `send`;
- the next message arrives during that wait, so when the thread has the lock back its `recv`
  returns at once and it must take the lock again: a second race, which costs the message a
  second interval when lost;
- what decides the second race is the thread's way from taking the lock to letting go of it for
  that `recv`, against the fib thread's waking from the wait it was forced into.

A thread's lock operations show as futex calls; taking the lock after a wait is the exit of the
last futex call before the `recv`. The fib thread wakes when its futex call returns.

CPython 2.7's lock is a semaphore with no hand-off (py2): the fib thread lets go every 100 ticks
and takes it straight back, and a waiter gets it only by running at that moment. Taking a free
semaphore makes no system call, so for each message the trace says whether the connection
thread found the lock free after `recv` (no futex wait before its `send`) and after `send` (none
before the next `recv`). What decides it is whether the fib thread really sleeps when it loses:
a futex wait that lasts (`sleep_us` or more) takes it off its CPU, and waking it again takes the
kernel microseconds, during which the lock stays free for the connection thread."""

import csv
import os
import re

from . import machine, points, units

_LINE = re.compile(r"^\s*(?P<comm>.+?)-(?P<tid>\d+)\s+\[(?P<cpu>\d+)\]\s+\S+\s+"
                   r"(?P<ts>\d+\.\d+): (?P<event>\w+)[:( ]\s*(?P<rest>.*)$")
_CALLS = ("sys_futex", "sys_sendto", "sys_recvfrom")
_FUTEX_OP = re.compile(r"\bop: (0x[0-9a-f]+|\d+)")
_FUTEX_CMD_MASK = 0x7F  # without FUTEX_PRIVATE_FLAG (0x80) and FUTEX_CLOCK_REALTIME (0x100)
_FUTEX_WAITS = (0, 9)  # FUTEX_WAIT, FUTEX_WAIT_BITSET


def parse(lines):
    """[(time_us, tid, cpu, event, rest)] of an ftrace text trace; comment lines are skipped."""
    events = []
    for line in lines:
        m = _LINE.match(line)
        if m:
            events.append((float(m["ts"]) * 1e6, int(m["tid"]), int(m["cpu"]), m["event"],
                           m["rest"]))
    return events


def calls(events, tid):
    """[(name, enter_us, exit_us)] of the futex, sendto and recvfrom calls of thread `tid`, in
    the order they were made; a call the trace cut off is left out."""
    found, open_calls = [], {}
    for t, who, _, name, rest in events:
        if who != tid or name not in _CALLS:
            continue
        if rest.startswith("->"):
            if name in open_calls:
                found.append((name, open_calls.pop(name), t))
        else:
            open_calls[name] = t
    return sorted(found, key=lambda c: c[1])


def futex_waits(events, tid):
    """[(enter_us, exit_us)] of the futex calls of thread `tid` that wait (FUTEX_WAIT or
    FUTEX_WAIT_BITSET, private or not): a lock the thread did not get at once."""
    found, entered = [], None
    for t, who, _, name, rest in events:
        if who != tid or name != "sys_futex":
            continue
        if rest.startswith("->"):
            if entered is not None:
                found.append((entered, t))
            entered = None
        else:
            m = _FUTEX_OP.search(rest)
            op = int(m[1], 0) if m else -1
            entered = t if op >= 0 and op & _FUTEX_CMD_MASK in _FUTEX_WAITS else None
    return found


def wakes(events, tid):
    """The times at which thread `tid` came back from a futex call."""
    return [t for t, who, _, name, rest in events
            if who == tid and name == "sys_futex" and rest.startswith("->")]


def _next(found, start, name):
    return next((j for j in range(start, len(found)) if found[j][0] == name), None)


def _waited(found, start, stop, long_wait_us):
    """Whether a futex call between found[start] and found[stop] (not included) waited long."""
    return any(c[0] == "sys_futex" and c[2] - c[1] > long_wait_us for c in found[start:stop])


def races(io_calls, fib_wakes, long_wait_us):
    """One entry per `send` of the connection thread: {lost_at_send, second}, where second is
    None when the send-side race was won, else {way_us, recv_us, fib_wake_us, lost}."""
    found = []
    for k, (name, _, _) in enumerate(io_calls):
        if name != "sys_sendto":
            continue
        r = _next(io_calls, k + 1, "sys_recvfrom")
        if r is None:
            break
        lost_at_send = _waited(io_calls, k + 1, r, long_wait_us)
        second = None
        following = _next(io_calls, r + 1, "sys_sendto")
        if lost_at_send and following is not None:
            took = max(c[2] for c in io_calls[k + 1:r] if c[0] == "sys_futex")
            recv = io_calls[r]
            fib = next((t for t in fib_wakes if t > took), None)
            second = {"way_us": recv[1] - took, "recv_us": recv[2] - recv[1],
                      "fib_wake_us": None if fib is None else fib - took,
                      "lost": _waited(io_calls, r + 1, following, long_wait_us)}
        found.append({"lost_at_send": lost_at_send, "second": second})
    return found


def _quantile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(found):
    """Counts and quantiles over races(): sends, lost_at_send, second, lost_second, way_p50_us,
    way_p90_us, way_10us_share, lost_way_p50_us, fib_wake_p50_us."""
    second = [f["second"] for f in found if f["second"]]
    lost = [s for s in second if s["lost"]]
    ways = [s["way_us"] for s in second]
    return {
        "sends": len(found), "lost_at_send": sum(f["lost_at_send"] for f in found),
        "second": len(second), "lost_second": len(lost),
        "way_p50_us": _quantile(ways, 0.5), "way_p90_us": _quantile(ways, 0.9),
        "way_10us_share": sum(w >= 10 for w in ways) / len(ways) if ways else None,
        "lost_way_p50_us": _quantile([s["way_us"] for s in lost], 0.5),
        "fib_wake_p50_us": _quantile([s["fib_wake_us"] for s in second
                                      if s["fib_wake_us"] is not None], 0.5),
    }


def semaphore_turns(io_calls, io_waits, fib_waits, span_us, sleep_us=5.0):
    """py2: {messages, free_after_recv, recv_to_send_p50_us, recv_to_send_p90_us,
    free_after_send, fib_sleeps_per_s, fib_asleep}. A message is a `recv` of the connection
    thread followed by its `send`: free after recv when no futex wait of the thread lies between
    the two, free after send when none lies between that send and the next recv. The fib
    thread's sleeps are its waits of `sleep_us` or more; fib_asleep is their share of the trace's
    span. Shares are None without messages."""
    def waited(start, stop):
        return any(start <= w[0] < stop for w in io_waits)

    free_recv, free_send, gaps, sends_followed = 0, 0, [], 0
    for k, (name, _, leave) in enumerate(io_calls):
        if name != "sys_recvfrom":
            continue
        s = _next(io_calls, k + 1, "sys_sendto")
        if s is None:
            break
        gaps.append(io_calls[s][1] - leave)
        free_recv += not waited(leave, io_calls[s][1])
        r = _next(io_calls, s + 1, "sys_recvfrom")
        if r is not None:
            sends_followed += 1
            free_send += not waited(io_calls[s][2], io_calls[r][1])
    sleeps = [w for w in fib_waits if w[1] - w[0] >= sleep_us]
    seconds = span_us / 1e6 if span_us > 0 else None
    return {
        "messages": len(gaps),
        "free_after_recv": free_recv / len(gaps) if gaps else None,
        "recv_to_send_p50_us": _quantile(gaps, 0.5), "recv_to_send_p90_us": _quantile(gaps, 0.9),
        "free_after_send": free_send / sends_followed if sends_followed else None,
        "fib_sleeps_per_s": len(sleeps) / seconds if seconds else None,
        "fib_asleep": sum(b - a for a, b in sleeps) / span_us if span_us > 0 else None,
    }


def read_threads(path):
    """{tid: CPU ticks} from DIR/threads.tsv (TID<TAB>utime+stime, as /proc says)."""
    found = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) == 2 and fields[0].isdigit() and fields[1].isdigit():
                found[int(fields[0])] = int(fields[1])
    return found


def threads_of(events, cpu_ticks):
    """(connection thread, fib thread): the server thread that sends the most, and the busiest
    other one. Raises ValueError when either is missing."""
    sends = {}
    for _, tid, _, name, rest in events:
        if name == "sys_sendto" and tid in cpu_ticks and not rest.startswith("->"):
            sends[tid] = sends.get(tid, 0) + 1
    if not sends:
        raise ValueError("no send of the server's threads in the trace")
    io = max(sends, key=sends.get)
    others = {tid: ticks for tid, ticks in cpu_ticks.items() if tid != io}
    if not others:
        raise ValueError("the server has no thread besides the connection thread")
    return io, max(others, key=others.get)


def two_interval_share(client, interval_us):
    """The client's share of round trips longer than 1.4 switch intervals, from its JSON."""
    buckets = (points.get(client, "results.latency.buckets") or []) if isinstance(client, dict) else []
    total = sum(int(b[2]) for b in buckets)
    over = sum(int(b[2]) for b in buckets if float(b[0]) >= 1.4 * interval_us)
    return over / total if total else None


def analyse(point_dir, client, interval_us, policy="py3"):
    """One server's directory (trace.txt, threads.tsv) read as `policy` says: summary() with
    the client's share of two-interval round trips (`client`: its client.json) for py3,
    semaphore_turns() with the client's mean round trip for py2; the threads found, in both."""
    with open(os.path.join(point_dir, "trace.txt"), encoding="utf-8", errors="replace") as f:
        events = parse(f)
    io, fib = threads_of(events, read_threads(os.path.join(point_dir, "threads.tsv")))
    if policy == "py2":
        span = events[-1][0] - events[0][0] if events else 0
        result = semaphore_turns(calls(events, io), futex_waits(events, io),
                                 futex_waits(events, fib), span)
        mean = points.get(client, "results.latency.mean_us") if isinstance(client, dict) else None
        result["mean_us"] = mean
    else:
        result = summary(races(calls(events, io), wakes(events, fib), interval_us / 5))
        result["two_intervals"] = two_interval_share(client, interval_us)
    result.update(io_tid=io, fib_tid=fib)
    return result


COLUMNS = ("server", "kind", "sends", "lost_at_send", "second", "lost_second", "way_p50_us",
           "way_p90_us", "way_10us_share", "lost_way_p50_us", "fib_wake_p50_us", "two_intervals",
           "error")
COLUMNS_PY2 = ("server", "kind", "messages", "free_after_recv", "recv_to_send_p50_us",
               "recv_to_send_p90_us", "free_after_send", "fib_sleeps_per_s", "fib_asleep",
               "mean_us", "error")


def _cell(value, fmt):
    return "-" if value is None else format(value, fmt)


def _machine_line(base, rows):
    """'AMD EPYC, 2 CPUs; server on CPUs any, client on any; load 0.52-1.10 on 2 CPUs'."""
    context, pins, loads = {}, set(), []
    for r in rows:
        client, params = r["_client"], r["_params"]
        context = context or (points.get(client, "context", {}) if isinstance(client, dict) else {})
        pins.add((params.get("server_cpus", "any"), params.get("client_cpus", "any")))
        load = machine.read_loadavg(os.path.join(base, r["dir"], "loadavg-before"))
        loads.append(load[0] if load else None)
    pin = "; ".join(f"server on CPUs {s}, client on {c}" for s, c in sorted(pins))
    model = context.get("cpu_model") or "CPU model unknown"
    return f"machine: {model}, {context.get('cores_online', '?')} CPUs; {pin}; " + \
        machine.load_text(loads, machine.cpus_online())


def _table(rows, width, head, cells, legend):
    """The table's lines: `head` lines, a row per server (its name and kind, then cells(row), or
    why it has no analysis), a blank line and the legend."""
    lines = list(head)
    for r in rows:
        start = f"{r['server']:<{width}}  {r['kind']:<8} "
        lines.append(start + (f"no analysis: {r['error']}" if r["error"] else cells(r)))
    return lines + ["", legend]


def _table_py3(rows, width):
    head = [f"{'server':<{width}}  {'kind':<8} {'sends':>5} {'lost':>5} {'2nd':>5} {'lost':>5}  "
            f"{'way p50':>7} {'p90':>5} {'>=10us':>6} {'lost p50':>8} {'fib wake':>8}  "
            f"{'2 intervals':>11}"]
    return _table(rows, width, head, lambda r: (
        f"{r['sends']:>5} {r['lost_at_send']:>5} "
        f"{r['second']:>5} {r['lost_second']:>5}  {_cell(r['way_p50_us'], '.0f'):>7} "
        f"{_cell(r['way_p90_us'], '.0f'):>5} {_cell(r['way_10us_share'], '.0%'):>6} "
        f"{_cell(r['lost_way_p50_us'], '.0f'):>8} {_cell(r['fib_wake_p50_us'], '.0f'):>8}  "
        f"{_cell(r['two_intervals'], '.1%'):>11}"),
        "sends, then how many lost the lock at send (a wait of over a fifth of the switch "
        "interval); 2nd: of those, the races after the next recv, and how many were lost "
        "(the message pays a second interval). way: from taking the lock back to calling "
        "that recv, in µs (p50, p90, share of 10 µs or more; lost p50: when the race was "
        "lost); fib wake: the fib thread back from its wait, µs after the lock was taken. "
        "2 intervals: the client's round trips over 1.4 switch intervals.")


def _table_py2(rows, width):
    head = [f"{'server':<{width}}  {'kind':<8} {'messages':>8} {'free':>5} {'recv->send':>10} "
            f"{'p90':>5} {'free':>5}  {'fib sleeps/s':>12} {'asleep':>6}  {'mean':>6}",
            f"{'':<{width}}  {'':<8} {'':>8} {'recv':>5} {'p50 µs':>10} {'µs':>5} {'send':>5}"]
    return _table(rows, width, head, lambda r: (
        f"{r['messages']:>8} "
        f"{_cell(r['free_after_recv'], '.0%'):>5} {_cell(r['recv_to_send_p50_us'], '.0f'):>10} "
        f"{_cell(r['recv_to_send_p90_us'], '.0f'):>5} {_cell(r['free_after_send'], '.0%'):>5}  "
        f"{_cell(r['fib_sleeps_per_s'], ',.0f'):>12} {_cell(r['fib_asleep'], '.0%'):>6}  "
        f"{_cell(r['mean_us'], '.0f'):>6}"),
        "messages traced; free recv / free send: the share in which the connection thread found "
        "the lock free after recv / after send (no futex wait before its next call); recv->send: "
        "from recv's return to send, in µs; fib sleeps/s: the fib thread's futex waits of 5 µs or "
        "more (it lost the lock and left its CPU), and the share of the trace it spent so; mean: "
        "the client's mean round trip in µs, over its whole run.")


def report(out):
    """OUT/race.csv and the table, one row per server directory under OUT/points (in the order
    of their params.json `order`), read as their params' `policy` says (py3 unless py2)."""
    rows = []
    base = os.path.join(out, "points")
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        d = os.path.join(base, name)
        params = points.load_json(os.path.join(d, "params.json")) or {}
        interval_us = units.parse_duration_ns(params.get("switch_interval", "5ms")) / 1000
        client = points.load_json(os.path.join(d, "client.json"))
        row = {"server": params.get("name", name), "kind": params.get("kind", "?"),
               "order": params.get("order", 0), "error": "", "dir": name, "_params": params,
               "_client": client, "_policy": params.get("policy", "py3")}
        try:
            row.update(analyse(d, client, interval_us, row["_policy"]))
        except (OSError, ValueError) as e:
            row["error"] = str(e)
        rows.append(row)
    if not rows:
        raise ValueError(f"no traced server under '{base}'")
    policies = {r["_policy"] for r in rows}
    if len(policies) > 1:
        raise ValueError(f"'{base}' mixes servers traced as {' and '.join(sorted(policies))}")
    py2 = policies == {"py2"}
    rows.sort(key=lambda r: r["order"])
    tmp = os.path.join(out, "race.csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS_PY2 if py2 else COLUMNS,
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, os.path.join(out, "race.csv"))
    width = max([6] + [len(r["server"]) for r in rows])
    return "\n".join([_machine_line(base, rows)] +
                     (_table_py2 if py2 else _table_py3)(rows, width))
