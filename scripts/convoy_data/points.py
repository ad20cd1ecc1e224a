"""One measurement ("point"): the files the programs wrote, point.json made from them, its numbers.

A point directory holds params.json (what the plan asked for), server.json (convoy-server's
stats), client.json and client.hgrm (convoy-client's results), the programs' stdout and stderr,
and, once the run is over, point.json = {point, status, error, server, client, machine}.
"""

import json
import os

from . import machine, units

# Percentile keys in convoy-client's JSON; the first one present wins. convoy-client writes
# p999_us (the scheme of convoy-server's p999_ns); older result files have p99_9_us.
_LATENCY_KEYS = {
    "p50_us": ("p50_us",),
    "p90_us": ("p90_us",),
    "p99_us": ("p99_us",),
    "p999_us": ("p999_us", "p99_9_us"),
    "max_us": ("max_us",),
    "mean_us": ("mean_us",),
}
# The numbers a point is summarised by, in the order tables and CSVs show them.
METRICS = tuple(_LATENCY_KEYS) + (
    "count", "requests_per_s", "fib_calls_per_s", "switches_per_s", "drop_requests",
    "futile_wakeups")


def load_json(path):
    """The JSON value in a file, or None when the file is missing or not JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path, value):
    """Writes through a temporary file beside the target, so a reader never sees half a file."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def get(value, dotted, default=None):
    """value["a"]["b"] for "a.b"; default where any step is missing."""
    for key in dotted.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return default
    return value


def last_line(path, limit=300):
    """The last non-blank line of a file (for one-line error messages), at most `limit` chars."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        return ""
    return lines[-1][:limit] if lines else ""


def _rounded(value):
    return None if value is None else round(float(value), 3)


def metrics(point):
    """The numbers of one point.json as a flat dict (None where a program wrote nothing)."""
    client, server = point.get("client"), point.get("server")
    result = {"status": point.get("status"), "error": point.get("error")}
    for name, keys in _LATENCY_KEYS.items():
        values = [get(client, f"results.latency.{key}") for key in keys]
        result[name] = _rounded(next((v for v in values if v is not None), None))
    result["count"] = get(client, "results.latency.count")
    result["requests_per_s"] = _rounded(get(client, "results.achieved_rate"))
    result["fib_calls_per_s"] = _rounded(get(server, "fib.calls_per_s"))
    duration = get(server, "run.duration_s")
    switches = get(server, "lock.stats.total.holder_switches")
    result["switches_per_s"] = _rounded(switches / duration) if duration and switches is not None else None
    result["drop_requests"] = get(server, "lock.stats.total.drop_requests")
    result["futile_wakeups"] = get(server, "lock.stats.total.futile_wakeups")
    return result


def lock_config(server):
    """The server's lock block: {"policy": name, knob: value, ...}."""
    block = get(server, "config.interpreter.lock")
    if not isinstance(block, dict):
        block = get(server, "lock.config.lock")
    return block if isinstance(block, dict) else {}


def knobs(server):
    """The policy's knobs as the server reports them (keys such as switch_interval_ns)."""
    return {k: v for k, v in lock_config(server).items() if k != "policy"}


def knob_name(key):
    """'switch_interval_ns' -> 'switch interval'."""
    return (key[:-3] if key.endswith("_ns") else key).replace("_", " ")


def knob_text(key, value):
    """A knob as a reader wants it: 'switch interval 5 ms', 'force switching on'."""
    if key.endswith("_ns") and isinstance(value, (int, float)):
        shown = units.format_ns(value)
    elif isinstance(value, bool):
        shown = "on" if value else "off"
    elif isinstance(value, (int, float)):
        shown = units.number(value)
    else:
        shown = str(value)
    return f"{knob_name(key)} {shown}"


def knobs_text(knob_values):
    return ", ".join(knob_text(k, v) for k, v in sorted(knob_values.items()))


def _failure(directory, started, client_rc, server_rc, timeout_s, expect_stats):
    """None when the run went well, else the one-line reason."""
    if not started:
        return f"server did not start: {last_line(os.path.join(directory, 'server.err'))}"
    if client_rc in ("124", "137"):
        return f"client did not finish within {units.number(timeout_s)} s"
    if client_rc != "0":
        return f"client exit {client_rc}: {last_line(os.path.join(directory, 'client.err'))}"
    if server_rc != "0":
        return f"server exit {server_rc}: {last_line(os.path.join(directory, 'server.err'))}"
    if expect_stats and get(load_json(os.path.join(directory, "server.json")), "fib") is None:
        return "server wrote no valid stats file"
    if not isinstance(load_json(os.path.join(directory, "client.json")), dict):
        return "client wrote no valid result file"
    return None


def finish(directory, started, client_rc, server_rc, timeout_s, expect_stats=True):
    """Writes directory/point.json from the files of a run that is over; returns the point."""
    error = _failure(directory, started, str(client_rc), str(server_rc), timeout_s, expect_stats)
    server = load_json(os.path.join(directory, "server.json"))
    client = load_json(os.path.join(directory, "client.json"))
    point = {
        "point": load_json(os.path.join(directory, "params.json")) or {},
        "status": "failed" if error else "ok",
        "error": error,
        "server": server if isinstance(server, dict) else None,
        "client": client if isinstance(client, dict) else None,
        "machine": machine.snapshot(os.path.join(directory, "loadavg-before")),
    }
    write_json(os.path.join(directory, "point.json"), point)
    return point


def outcome_line(point):
    """'p50 0.058 ms, p99 3.24 ms, fib 1 869 186 calls/s' or 'FAILED: <why>'."""
    if point.get("status") != "ok":
        return f"FAILED: {point.get('error')}"
    m = metrics(point)
    parts = [f"{name} {units.number(m[f'{name}_us'] / 1000)} ms" for name in ("p50", "p99")
             if m[f"{name}_us"] is not None]
    if m["fib_calls_per_s"]:
        parts.append(f"fib {units.grouped(m['fib_calls_per_s'])} calls/s")
    return ", ".join(parts) or "ok"


def is_done(directory, params):
    """True when directory/point.json measured these very params and went well."""
    point = load_json(os.path.join(directory, "point.json"))
    return isinstance(point, dict) and point.get("status") == "ok" and point.get("point") == params
