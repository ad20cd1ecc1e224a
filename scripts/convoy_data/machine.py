"""The machine a result was measured on: load average and CPUs, recorded next to every point."""

import os


def read_loadavg(path="/proc/loadavg"):
    """[1 min, 5 min, 15 min] load averages from a /proc/loadavg-style file, or None."""
    try:
        with open(path, encoding="ascii") as f:
            fields = f.read().split()
        return [float(x) for x in fields[:3]]
    except (OSError, ValueError):
        return None


def cpus_online():
    try:
        return os.sysconf("SC_NPROCESSORS_ONLN")
    except (OSError, ValueError):
        return os.cpu_count()


def snapshot(before_path=None):
    """{load_before, load_after, cpus_online}: how busy the machine was around a run."""
    return {
        "load_before": read_loadavg(before_path) if before_path else None,
        "load_after": read_loadavg(),
        "cpus_online": cpus_online(),
    }


def load_text(loads, cpus):
    """'load 0.4-1.2 on 2 CPUs' from the 1-minute load averages before a set of runs."""
    loads = [x for x in loads if x is not None]
    if not loads:
        return ""
    low, high = min(loads), max(loads)
    shown = f"{low:.2f}" if abs(high - low) < 0.005 else f"{low:.2f}-{high:.2f}"
    on = f" on {cpus} CPUs" if cpus else ""
    return f"load {shown}{on}"
