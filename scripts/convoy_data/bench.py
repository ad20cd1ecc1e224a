"""The numbers of scripts/bench-client.sh: convoy-client against sockperf on the loopback floor,
and how well it paces an open loop. Targets are printed, not enforced (it is a benchmark)."""

import os
import re

from . import points, reduce

FLOOR_TARGET = 1.25  # convoy-client's median p50 within this factor of sockperf's
PACING_TARGET_PERCENT = 1.0  # achieved rate within this many percent of the offered rate

_SOCKPERF_P50 = re.compile(r"percentile 50\.0+ =\s*([0-9.]+)")


def sockperf_p50(path):
    """The p50 round trip (µs) in sockperf ping-pong's output, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            match = _SOCKPERF_P50.search(f.read())
    except OSError:
        return None
    return float(match.group(1)) if match else None


def _round(work, n):
    sockperf = sockperf_p50(os.path.join(work, f"floor-{n}-sockperf.txt"))
    convoy = points.get(points.load_json(os.path.join(work, f"floor-{n}-convoy.json")),
                        "results.latency.p50_us")
    return sockperf, convoy


def _us(value):
    return f"{value:8.2f}" if value is not None else "  failed"


def round_line(work, n):
    sockperf, convoy = _round(work, n)
    return f"   round {n}: sockperf {_us(sockperf)}   convoy-client {_us(convoy)}"


def floor_summary(work, rounds):
    """The medians over the rounds, their ratio and whether it is within the target."""
    measured = [_round(work, n) for n in range(1, rounds + 1)]
    sockperf = reduce.median([s for s, _ in measured])
    convoy = reduce.median([c for _, c in measured])
    if sockperf is None or convoy is None:
        return "   median:  no complete round (see the outputs above)"
    ratio = convoy / sockperf
    verdict = "within target" if ratio <= FLOOR_TARGET else "ABOVE target"
    return (f"   median:  sockperf {_us(sockperf)}   convoy-client {_us(convoy)}   ratio {ratio:.3f} "
            f"(target <= {FLOOR_TARGET}: {verdict})")


def pacing_summary(path):
    """Achieved against offered rate, and the schedule lag, of an open-loop result file."""
    results = points.get(points.load_json(path), "results")
    achieved, offered = points.get(results, "achieved_rate"), points.get(results, "offered_rate")
    if not achieved or not offered:
        return f"   no open-loop result in {path}"
    off_by = (achieved / offered - 1) * 100
    lag50, lag99 = points.get(results, "schedule_lag.p50_us"), points.get(results, "schedule_lag.p99_us")
    lag = "" if lag50 is None or lag99 is None else \
        f"; schedule lag p50 {lag50:.1f} us, p99 {lag99:.1f} us"
    verdict = "within target" if abs(off_by) <= PACING_TARGET_PERCENT else "OUTSIDE target"
    return (f"   achieved {int(achieved)} req/s of {offered:g} offered ({off_by:+.3f} %){lag}\n"
            f"   target |achieved - offered| <= {PACING_TARGET_PERCENT:g} %: {verdict}")
