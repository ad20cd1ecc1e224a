"""The checks scripts/docker-smoke.sh makes of the files its containers wrote.

Each check returns a list of problems (empty: it passed), each one line naming the file."""

import os

from . import points


def cpu_set(text):
    """{0, 1, 2, 4} for '0-2,4' (cpuset and taskset list syntax)."""
    found = set()
    for part in str(text).split(","):
        if not part.strip():
            continue
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


def _affinity(path, value, cpus):
    if not cpus:
        return []
    got = points.get(value, "context.cpu_affinity")
    if got is None or cpu_set(got) != cpu_set(cpus):
        return [f"{path}: runs on CPUs '{got}', not on the cpuset '{cpus}'"]
    return []


def _expect(path, value, checks):
    return [f"{path}: expected {what}" for what, ok in checks if not ok(value)]


def _client_checks():
    lat = lambda v, k: points.get(v, f"results.latency.{k}") or 0  # noqa: E731
    return [
        ("a context block and the config", lambda v: points.get(v, "context.host")
         and points.get(v, "context.cores_online") and points.get(v, "config") is not None),
        ("status ok with more than 100 samples", lambda v: points.get(v, "results.status") == "ok"
         and (points.get(v, "results.latency.count") or 0) > 100),
        ("0 < p50 <= p99 <= max", lambda v: 0 < lat(v, "p50_us") <= lat(v, "p99_us") <= lat(v, "max_us")),
        ("no errors", lambda v: not any((points.get(v, "results.errors") or {"?": 1}).values())),
    ]


def point_files(directory, server_cpus, client_cpus):
    """A point measured in two containers: complete results, no errors, the right CPUs."""
    client_path = os.path.join(directory, "client.json")
    server_path = os.path.join(directory, "server.json")
    client, server = points.load_json(client_path), points.load_json(server_path)
    problems = _expect(client_path, client, _client_checks())
    problems += _expect(server_path, server, [(
        "fib calls, the lock and the context", lambda v: (points.get(v, "fib.calls_per_s") or 0) > 0
        and points.get(v, "lock") is not None and points.get(v, "context") is not None)])
    problems += _affinity(client_path, client, client_cpus) + _affinity(server_path, server, server_cpus)
    hgrm = os.path.join(directory, "client.hgrm")
    if not os.path.isfile(hgrm) or os.path.getsize(hgrm) == 0:
        problems.append(f"{hgrm} is missing or empty")
    return problems


def compose_files(client_path, server_path, server_cpus, client_cpus):
    """The files of one `compose up`: the client finished, the server wrote its stats."""
    client, server = points.load_json(client_path), points.load_json(server_path)
    problems = _expect(client_path, client, [("status ok with samples", lambda v: points.get(
        v, "results.status") == "ok" and (points.get(v, "results.latency.count") or 0) > 0)])
    problems += _expect(server_path, server, [
        ("fib calls", lambda v: (points.get(v, "fib.calls_per_s") or 0) > 0)])
    return problems + _affinity(client_path, client, client_cpus) + _affinity(
        server_path, server, server_cpus)


def convoy(slow_dir, fast_dir, floor_us=2000, factor=1.5):
    """(problems, text): the slow policy's median above floor_us and factor x the fast one's."""
    slow = points.get(points.load_json(os.path.join(slow_dir, "client.json")), "results.latency.p50_us")
    fast = points.get(points.load_json(os.path.join(fast_dir, "client.json")), "results.latency.p50_us")
    names = os.path.basename(slow_dir), os.path.basename(fast_dir)
    if slow is None or fast is None:
        return [f"no medians in {slow_dir} and {fast_dir}"], ""
    text = f"median {names[1]} {fast:.0f} us, {names[0]} {slow:.0f} us"
    if not (slow > floor_us and slow > factor * fast):
        return [f"no convoy: {names[0]} median {slow:.0f} us is not clearly above {names[1]}'s "
                f"{fast:.0f} us"], text
    return [], text
