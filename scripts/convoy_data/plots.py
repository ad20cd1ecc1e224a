"""Every picture the scripts draw, with matplotlib (PNG, no display needed).

Each plot says under its title what it was measured under (the values that stay fixed: policy
knobs, fib threads, think time, connections, samples per run, load average), marks a policy's
time knobs (the switch interval) where latency is drawn, shows the maximum, and puts times in the
unit that reads best. A value reduced over repetitions is called a median only when there were
several; the single runs are drawn as dots beside it.
"""

import math
import os
import textwrap

from . import axes as axes_mod
from . import hgrm, machine, points, reduce, rows, sweep, units

COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
_SIZE = (10, 6.4)


def pyplot():
    """matplotlib.pyplot on the file-only backend; RuntimeError saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("matplotlib is not installed (scripts/install-deps.sh installs "
                           "python3-matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def figure(title, subtitle):
    """(pyplot, figure, axes) in the house style: title, conditions underneath, a grid."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=_SIZE, dpi=100)
    fig.suptitle(title, fontsize=13)
    if subtitle:
        ax.set_title(textwrap.fill(subtitle, 150), fontsize=9, color="#444444")
    ax.grid(True, which="major", alpha=0.5)
    ax.grid(True, which="minor", alpha=0.15)
    return plt, fig, ax


def save(plt, fig, path):
    """Writes the figure as PNG through a temporary file beside `path`; returns `path`."""
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def _plain_log_ticks(axis):
    from matplotlib.ticker import FuncFormatter
    axis.set_major_formatter(FuncFormatter(lambda v, _: units.number(v)))


def conditions(found, columns, exclude=()):
    """The subtitle of a set of CSV rows: the axis values they share, the samples per run and the
    load average before the runs."""
    parts = []
    shared = reduce.fixed([c for c in columns if c not in exclude], found)
    for column, (value, having) in shared.items():
        text = axes_mod.caption(axes_mod.for_column(column), value)
        parts.append(f"{text} ({', '.join(having)})" if having else text)
    counts = [c for c in (reduce.as_number(r.get("count")) for r in found) if c is not None]
    if counts:
        low, high = units.grouped(min(counts)), units.grouped(max(counts))
        parts.append(f"{low if low == high else low + '-' + high} samples per run")
    cpus = reduce.distinct(found, "cpus_online")
    load = machine.load_text([reduce.as_number(r.get("load_1m")) for r in found],
                             cpus[0] if len(cpus) == 1 else None)
    return ", ".join(parts + ([load] if load else []))


def _runs_text(reduced_lists):
    counts = sorted({r.n for rs in reduced_lists for r in rs})
    if not counts or counts == [1]:
        return "one run per point"
    span = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"median of {span} runs, dots: single runs"


class _Scale:
    """Values in µs (or plain numbers) shown in the unit that reads best."""

    def __init__(self, values_us, is_time=True):
        self.label, self.per = units.best_time_unit([v * 1000 for v in values_us]) if is_time \
            else ("", 1.0)
        self.is_time = is_time

    def __call__(self, value):
        return value * 1000 / self.per if self.is_time else value

    def axis_label(self, name):
        return f"{name} ({self.label})" if self.is_time else name


def _time_marks(ax, found, columns, x_column, x_scale, y_scale):
    """Dotted grey lines at a policy's time knobs: y = x where the knob is the x axis, else one
    horizontal line per value it takes in these rows."""
    for column in columns:
        axis = axes_mod.for_column(column)
        if not axis.knob_of or axis.kind != "duration":
            continue
        values = sorted(v for v in map(reduce.as_number, reduce.distinct(found, column))
                        if v is not None)
        if column == x_column:
            ax.plot([x_scale(v) for v in values], [y_scale(v) for v in values], ":",
                    color="#555555", lw=1.2, label=f"latency = {axis.label}")
            continue
        for us in values:
            ax.axhline(y_scale(us), ls=":", color="#555555", lw=1.2,
                       label=f"{axis.label} {units.format_ns(us * 1000)}")


def _series_label(split, key):
    words = [value for column, value in zip(split, key) if column == "policy"]
    words += [axes_mod.caption(axes_mod.for_column(column), value)
              for column, value in zip(split, key) if column != "policy" and value != "-"]
    return " ".join(words) or "all"


# What a latency plot draws per series: the metric, how it is reduced, its line and marker.
_LATENCY = (("p50_us", "median", "-", "o", "p50"), ("p99_us", "median", "--", "s", "p99"),
            ("max_us", "maximum", ":", "^", "max"))


def _draw_series(ax, reduced, metric, how, x_scale, y_scale, style):
    """One metric of one series: a line over x, dots for single runs, or a horizontal line when
    the series has no x (a knob its policy does not have)."""
    placed = [(r.x, getattr(r, how)(metric), r) for r in reduced if r.x is not None]
    placed = [(x, y, r) for x, y, r in placed if y is not None]
    if placed:
        ax.plot([x_scale(x) for x, _, _ in placed], [y_scale(y) for _, y, _ in placed],
                style["ls"], marker=style["marker"], color=style["color"], lw=2, ms=5,
                label=style["label"])
        if how == "median" and any(r.n > 1 for _, _, r in placed):
            dots = [(x_scale(x), y_scale(v)) for x, _, r in placed for v in r.runs[metric]
                    if v is not None]
            ax.scatter(*zip(*dots), s=10, color=style["color"], alpha=0.35, zorder=1)
    for r in reduced:
        value = getattr(r, how)(metric) if r.x is None else None
        if value is not None:
            ax.axhline(y_scale(value), ls=style["ls"], color=style["color"], lw=1.2,
                       label=f"{style['label']} (no {style['axis']})")


def _sweep_figure(kind, ok, columns, x, series, split):
    axis = axes_mod.for_column(x)
    x_values = [r.x for rs in series.values() for r in rs if r.x is not None]
    x_scale = _Scale(x_values, axis.kind == "duration")
    metrics = [m[0] for m in _LATENCY] if kind == "latency" else ["fib_calls_per_s"]
    y_values = [v for rs in series.values() for r in rs for m in metrics for v in r.runs[m]
                if v is not None]
    y_scale = _Scale(y_values, kind == "latency")
    what = "Round-trip latency" if kind == "latency" else "CPU-bound throughput"
    title = f"{what} against {axis.label} ({_runs_text(series.values())})"
    plt, fig, ax = figure(title, conditions(ok, columns, exclude=[x] + split))
    for i, (key, reduced) in enumerate(series.items()):
        name = _series_label(split, key)
        style = {"color": COLORS[i % len(COLORS)], "axis": axis.label}
        if kind == "latency":
            for metric, how, ls, marker, short in _LATENCY:
                style.update(ls=ls, marker=marker, label=f"{name} {short}")
                _draw_series(ax, reduced, metric, how, x_scale, y_scale, style)
        else:
            style.update(ls="-", marker="o", label=name)
            _draw_series(ax, reduced, "fib_calls_per_s", "median", x_scale, y_scale, style)
    if kind == "latency":
        _time_marks(ax, ok, columns, x, x_scale, y_scale)
    _sweep_axes(ax, kind, axis, x_values, x_scale, y_scale)
    return plt, fig


def _sweep_axes(ax, kind, axis, x_values, x_scale, y_scale):
    from matplotlib.ticker import EngFormatter, MaxNLocator, NullLocator
    low, high = min(x_values, default=0), max(x_values, default=0)
    if low > 0 and high / low >= 10:
        ax.set_xscale("log")
        _plain_log_ticks(ax.xaxis)
    shown = sorted({x_scale(x) for x in x_values})
    if len(shown) <= 12:  # few values: a tick at each, in the unit of the axis
        ax.set_xticks(shown, [units.number(x) for x in shown])
        ax.xaxis.set_minor_locator(NullLocator())
    elif axis.kind == "count":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(x_scale.axis_label(axis.label))
    if kind == "latency":
        ax.set_yscale("log")
        _plain_log_ticks(ax.yaxis)
        ax.set_ylabel(y_scale.axis_label("round trip"))
    else:
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(EngFormatter(sep="\u2009"))
        ax.set_ylabel("fib calls per second")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=True)


def _x_columns(columns, ok):
    """The axes a sweep varied along numbers: one pair of plots each."""
    found = []
    for column in columns:
        values = reduce.distinct(ok, column)
        if len(values) > 1 and all(reduce.as_number(v) is not None for v in values):
            found.append(column)
    return found


def sweep_plots(csv_path, out_dir):
    """latency-vs-AXIS.png and fib-vs-AXIS.png for each axis the sweep varied along numbers
    (fib threads when it varied none); returns the files written."""
    columns, found = rows.read_csv(csv_path)
    ok = [r for r in found if r.get("status") == "ok"]
    if not ok:
        raise ValueError(f"no successful points to plot in '{csv_path}'")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for x in _x_columns(columns, ok) or [c for c in ("cpu_threads",) if c in columns]:
        split = [c for c in reduce.varying(columns, ok) if c != x]
        split = split if "policy" in split else ["policy"] + split
        series = reduce.series(ok, x, split, [m[0] for m in _LATENCY] + ["fib_calls_per_s"])
        stem = axes_mod.for_column(x).name.replace("_", "-")
        for kind, prefix in (("latency", "latency"), ("fib", "fib")):
            plt, fig = _sweep_figure(kind, ok, columns, x, series, split)
            written.append(save(plt, fig, os.path.join(out_dir, f"{prefix}-vs-{stem}.png")))
    return written


def _percent_label(k):
    """The percentile at 1/(1-p) = 10^k: 0 -> '0%', 1 -> '90%', 3 -> '99.9%'."""
    return "0%" if k == 0 else f"{100 - 100 / 10 ** k:.{max(0, k - 2)}f}%"


def percentiles(png, series, subtitle="", title="Round-trip latency by percentile"):
    """Percentile curves (x = 1/(1-p), log) of .hgrm files, each ending in its maximum, drawn at
    a 'max' tick past the last percentile. series: [{"label", "path", "marks": [(text, ns)]}]."""
    loaded = [(s, *hgrm.read(s["path"])) for s in series]
    values = [r[0] for _, rs, mx in loaded for r in rs] + [mx for _, _, mx in loaded]
    scale = _Scale(values)
    last = max(r[3] for _, rs, _ in loaded for r in rs)
    top_k = math.ceil(math.log10(max(last, 1.0)) + 1e-9) + 1
    top = 10.0 ** top_k
    plt, fig, ax = figure(title, subtitle)
    for i, (s, rs, maximum) in enumerate(loaded):
        color = COLORS[i % len(COLORS)]
        ax.plot([r[3] for r in rs], [scale(r[0]) for r in rs], color=color, lw=2.2, label=s["label"])
        ax.plot([rs[-1][3], top], [scale(rs[-1][0]), scale(maximum)], ":", color=color, lw=1.2)
        ax.plot([top], [scale(maximum)], marker="^", color=color, ms=8)
        ax.annotate(f"{units.number(scale(maximum))} {scale.label}", (top, scale(maximum)),
                    xytext=(8, -3), textcoords="offset points", fontsize=8, color=color)
        for text, ns in s.get("marks", ()):
            ax.axhline(scale(ns / 1000), ls="--", color=color, lw=1, alpha=0.8,
                       label=f"{s['label'].split(' (')[0]}: {text}")
    ticks = [1.0, 2.0] + [10.0 ** k for k in range(1, top_k)]
    ax.set_xscale("log")
    ax.set_xticks(ticks + [top], ["0%", "50%"] + [_percent_label(k) for k in range(1, top_k)]
                  + ["max"])
    ax.minorticks_off()
    ax.set_xlim(0.9, top * 3)
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("percentile")
    ax.set_ylabel(scale.axis_label("round trip"))
    ax.legend(loc="upper left", fontsize=8, frameon=True)
    return save(plt, fig, png)


def _point_knobs(point, axis_list):
    """The knobs the server reports for the point's policy (only its own, where the plan knows
    which knobs belong to which policy)."""
    reported = points.knobs(point.get("server"))
    knob_axes = [a for a in axis_list if a.knob_of]
    if not knob_axes:
        return reported
    policy = points.get(point, "point.policy")
    own = {a.key for a in knob_axes if policy in a.knob_of}
    return {k: v for k, v in reported.items() if k in own}


def demo_percentiles(out, png):
    """The percentile curves of every successful point of OUT's plan, each policy's knobs in its
    label and its time knobs marked."""
    the_plan = sweep.load_plan(out)
    axis_list = [axes_mod.from_dict(a) for a in the_plan["axes"]]
    series = []
    for p in the_plan["points"]:
        directory = sweep.point_dir(out, p["id"])
        point = points.load_json(os.path.join(directory, "point.json"))
        path = os.path.join(directory, "client.hgrm")
        if not (isinstance(point, dict) and point.get("status") == "ok" and os.path.isfile(path)
                and os.path.getsize(path)):
            continue
        knob_values = _point_knobs(point, axis_list)
        label = p["label"] + (f" ({points.knobs_text(knob_values)})" if knob_values else "")
        marks = [(points.knob_text(k, v), v) for k, v in sorted(knob_values.items())
                 if k.endswith("_ns") and isinstance(v, (int, float)) and v > 0]
        series.append({"label": label, "path": path, "marks": marks})
    if not series:
        raise ValueError("no successful point has a percentile file")
    header, found = rows.plan_rows(out)
    ok = [r for r in found if r["status"] == "ok"]
    columns = rows.axis_columns(header)
    knob_columns = [a.column for a in axis_list if a.knob_of]
    exclude = reduce.varying(columns, ok) + knob_columns
    return percentiles(png, series, subtitle=conditions(ok, columns, exclude=exclude))
