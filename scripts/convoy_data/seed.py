"""The seed experiment's table: "done in X s" for each server, beside the blog's figures.

The experiment (a threaded echo server beside one thread computing fib, a client sending 1000
messages of 100 bytes one at a time and timing the lot) was published with two numbers: "about
10.14 s" under Python 3 and "2.21 s" under Python 2, explained as (5 ms + 5 ms) x 1000."""

import glob
import os
import textwrap

from . import machine, points

# What the blog measured, by the family a row belongs to.
BLOG_SECONDS = {"CPython 3": 10.14, "CPython 2": 2.21}


def _family(params):
    return params.get("family") or ""


def rows(out):
    """[{name, kind, family, done_s, per_message_ms, p50_ms, p90_ms, blog_s, status, error}] in
    the order the runs were made."""
    found = []
    for path in glob.glob(os.path.join(out, "points", "*", "point.json")):
        point = points.load_json(path)
        if not isinstance(point, dict):
            continue
        params = points.get(point, "point", {}) or {}
        found.append((params.get("order", 0), params, point))
    result = []
    for _, params, point in sorted(found, key=lambda f: f[0]):
        m = points.metrics(point)
        done = points.get(point, "client.results.elapsed_s")
        completed = points.get(point, "client.results.requests.completed")
        ok = point.get("status") == "ok" and done is not None
        result.append({
            "name": params.get("name", "?"), "kind": params.get("kind", "?"),
            "family": _family(params), "status": point.get("status"), "error": point.get("error"),
            "done_s": done if ok else None,
            "per_message_ms": done * 1000 / completed if ok and completed else None,
            "p50_ms": m["p50_us"] / 1000 if ok and m["p50_us"] is not None else None,
            "p90_ms": m["p90_us"] / 1000 if ok and m["p90_us"] is not None else None,
            "blog_s": BLOG_SECONDS.get(_family(params)),
        })
    return result


def _num(value, fmt):
    return "-" if value is None else format(value, fmt)


def table(out, messages, switch_interval_ms=5.0):
    """The table as text, then why this machine's numbers differ from the blog's."""
    entries = rows(out)
    width = max([6] + [len(e["name"]) for e in entries])
    lines = [f"{'server':<{width}}  {'kind':<8} {'done in':>9} {'per msg':>9} {'intervals':>9} "
             f"{'p50':>9} {'p90':>9}   {'the blog':>9}"]
    for e in entries:
        if e["done_s"] is None:
            lines.append(f"{e['name']:<{width}}  {e['kind']:<8} failed: {e['error']}")
            continue
        blog = f"{e['blog_s']:.2f} s" if e["blog_s"] else ""
        intervals = e["per_message_ms"] / switch_interval_ms \
            if e["family"] == "CPython 3" and e["per_message_ms"] is not None else None
        lines.append(f"{e['name']:<{width}}  {e['kind']:<8} {_num(e['done_s'], '.2f'):>7} s "
                     f"{_num(e['per_message_ms'], '.3f'):>6} ms {_num(intervals, '.2f'):>9} "
                     f"{_num(e['p50_ms'], '.3f'):>6} ms "
                     f"{_num(e['p90_ms'], '.3f'):>6} ms   {blog:>9}")
    cpus = machine.cpus_online()
    load = machine.read_loadavg()
    lines += ["", explanation(messages, switch_interval_ms, cpus, load[0] if load else None)]
    return "\n".join(lines)


def explanation(messages, switch_interval_ms, cpus, load):
    """Why "done in" here is not the blog's: a few paragraphs, with this machine's facts."""
    one = messages * switch_interval_ms / 1000
    where = f"{cpus} CPUs online" + (f", load average {load:.2f}" if load is not None else "")
    paragraphs = [
        f"Why these are not the blog's numbers (this machine: {where}).",
        f"Python 3: the blog's (5 ms + 5 ms) x 1000 = 10 s supposes the connection thread loses the "
        f"lock to the fib thread after both recv and sendall and waits a whole switch interval each "
        f"time. Each is a race it can win: the lock is free from the moment it is dropped until the "
        f"woken fib thread runs, and a connection thread back from a short call takes it first "
        f"(CPython's take_gil lets it). Losing both races costs two intervals a message "
        f"({2 * one:.1f} s for {messages}); losing one, one ({one:.1f} s); winning both, "
        f"as happens when the fib thread is slow to wake (a loaded machine, few cores), none: the "
        f"convoy hides and the run goes at loopback speed while the fib thread waits out its own "
        f"interval. Which dominates depends on how quickly this machine's scheduler wakes the fib "
        f"thread: the column 'intervals' is the time per message in switch intervals.",
        "Python 2: there is no interval. The connection thread waits only for the fib thread's next "
        "periodic release (every 100 ticks, microseconds apart) and then races for the lock, so its "
        "time is set by the OS's wake-up latency and by how often the fib thread re-grabs the lock "
        "first, which more cores make worse, not better.",
        "Compare the rows of one run, not the absolute seconds across machines.",
    ]
    return "\n".join(textwrap.fill(p, 96) for p in paragraphs)
