"""The side-by-side tables: the points of a run (the demo), and real interpreters against the
policies that emulate them (reference)."""

import glob
import os

from . import points, sweep

_COLUMNS = (("p50 ms", "p50_us", 1000, 3), ("p90 ms", "p90_us", 1000, 3), ("p99 ms", "p99_us", 1000, 3),
            ("max ms", "max_us", 1000, 3), ("requests/s", "requests_per_s", 1, 0),
            ("fib calls/s", "fib_calls_per_s", 1, 0), ("switches/s", "switches_per_s", 1, 0))


def _cell(value, divisor, decimals):
    return "-" if value is None else f"{value / divisor:.{decimals}f}"


def plan_summary(out):
    """{context, points: [{id, policy, label, status, error, numbers..., machine}]} for OUT's plan."""
    entries, context = [], None
    for p in sweep.load_plan(out)["points"]:
        point = points.load_json(os.path.join(sweep.point_dir(out, p["id"]), "point.json"))
        if not isinstance(point, dict):
            continue
        context = context or points.get(point, "client.context") or points.get(point, "server.context")
        entries.append({"id": p["id"], "policy": p["params"].get("policy"), "label": p["label"],
                        **points.metrics(point), "machine": point.get("machine")})
    return {"context": context, "points": entries}


def points_table(out, summary):
    """The table of a summary, one line per point; a failed point says where its file is."""
    width = max([7] + [len(e["label"]) for e in summary["points"]])
    widths = [max(10, len(title)) for title, *_ in _COLUMNS]
    lines = [f"{'point':<{width}} " + " ".join(f"{t:>{w}}" for (t, *_), w in zip(_COLUMNS, widths))]
    for e in summary["points"]:
        if e["status"] != "ok":
            where = os.path.join(sweep.point_dir(out, e["id"]), "point.json")
            lines.append(f"{e['label']:<{width}} failed: {e['error']} (see {where})")
            continue
        cells = [_cell(e[key], div, dec) for _, key, div, dec in _COLUMNS]
        lines.append(f"{e['label']:<{width}} " + " ".join(f"{c:>{w}}" for c, w in zip(cells, widths)))
    return "\n".join(lines)


def write_plan_summary(out):
    """OUT/summary.json, and the table as text."""
    summary = plan_summary(out)
    points.write_json(os.path.join(out, "summary.json"), summary)
    return points_table(out, summary)


def _ms(point, key):
    if not isinstance(point, dict):
        return "-"
    if point.get("status") != "ok":
        return "failed"
    value = points.metrics(point)[key]
    return "-" if value is None else f"{value / 1000:.3f}"


_REFERENCE_HEADER = ("interpreter", "version", "real_p50_ms", "real_p90_ms", "real_p99_ms", "policy",
                     "emulated_p50_ms", "emulated_p90_ms", "emulated_p99_ms", "real_mean_ms",
                     "emulated_mean_ms", "mean_ratio")


def _ratio(emulated, real):
    """emulated/real of two '1.234' cells, or '-' when either is not a number."""
    try:
        return f"{float(emulated) / float(real):.2f}"
    except (TypeError, ValueError, ZeroDivisionError):
        return "-"


def reference_rows(out):
    """One row per real interpreter measured under OUT/points (in the order they were run)."""
    found = []
    for path in glob.glob(os.path.join(out, "points", "*", "point.json")):
        point = points.load_json(path)
        params = points.get(point, "point", {})
        if params.get("kind") == "real":
            found.append((params.get("order", 0), params, point))
    rows = []
    for _, params, real in sorted(found, key=lambda f: f[0]):
        policy = params.get("emulated_by") or ""
        emulated = points.load_json(os.path.join(out, "points", f"emulated-{policy}", "point.json")) \
            if policy else None
        keys = ("p50_us", "p90_us", "p99_us")
        real_mean = _ms(real, "mean_us")
        emulated_mean = _ms(emulated, "mean_us") if policy else "-"
        rows.append([params.get("interpreter", "?"), params.get("version", "?")]
                    + [_ms(real, k) for k in keys] + [policy or "(none)"]
                    + [_ms(emulated, k) if policy else "-" for k in keys]
                    + [real_mean, emulated_mean, _ratio(emulated_mean, real_mean)])
    return rows


def write_reference_table(out):
    """OUT/table.tsv, and the table as text (the ratio is emulated/real of the means)."""
    rows = reference_rows(out)
    with open(os.path.join(out, "table.tsv"), "w", encoding="utf-8") as f:
        for row in [_REFERENCE_HEADER] + rows:
            f.write("\t".join(str(c) for c in row) + "\n")
    width = max([len("interp")] + [len(str(r[0])) for r in rows])
    lines = [f"{'interp':<{width}} {'version':<22} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} "
             f"{'mean ms':>9}   {'emulated':<8} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} "
             f"{'mean ms':>9} {'ratio':>6}"]
    for r in rows:
        lines.append(f"{r[0]:<{width}} {r[1][:22]:<22} {r[2]:>9} {r[3]:>9} {r[4]:>9} {r[9]:>9}   "
                     f"{r[5]:<8} {r[6]:>9} {r[7]:>9} {r[8]:>9} {r[10]:>9} {r[11]:>6}")
    return "\n".join(lines)
