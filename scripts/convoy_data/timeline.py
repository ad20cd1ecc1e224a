"""The GIL timeline: a trace `convoy-server --trace FILE` wrote, read into one lane per thread,
summed up per thread, and drawn.

The trace is Chrome trace-event JSON (what Perfetto and chrome://tracing open): metadata events
name the threads and their order, complete events ("ph": "X") are the waits for the lock, the
holds and the syscalls, instants ("ph": "i") the drop requests, forced switches and messages, and
flows ("ph": "s"/"f") the hand-offs. Times are in µs from the start of the run. Events of kinds
this module does not know are left out, so a newer server's trace still draws.

Every time here is in µs, as in the trace; the command line and the pictures speak in ms.
"""

import json
import math
import os
import re
import textwrap
from dataclasses import dataclass, field

from . import plots, units

# What a lane draws, by the name of a complete event (category "lock") or its category.
HOLD, WAIT, SYSCALL = "hold", "wait", "syscall"
_SPAN_NAMES = {"holds lock": HOLD, "wants lock": WAIT}
# Instants by name: the key used below and in the legend.
_INSTANTS = {"drop request": "drop", "forced switch": "forced", "message received": "received",
             "message echoed": "echoed"}
# Roles in lane order when the trace gives no sort index.
_ROLES = ("main", "io", "fib")
# Colours of the spans and the markers of the instants: (label, colour, marker, y in the lane).
SPAN_STYLE = {HOLD: ("holds the lock", "#1b9e77"), WAIT: ("waits for the lock", "#d95f02"),
              SYSCALL: ("in a syscall (lock released)", "#7570b3")}
INSTANT_STYLE = {"drop": ("drop request", "#e7298a", "v", 0.92),
                 "forced": ("forced switch", "#000000", "x", 0.92),
                 "received": ("message received", "#1f78b4", "^", 0.08),
                 "echoed": ("message echoed", "#a6761d", "o", 0.08)}
# Hand-offs are drawn as lines between lanes only when there are few enough to read.
_MAX_FLOWS = 300
# Tolerance when a window is compared with the trace's span (the trace's ns decimals).
_EPS_US = 0.001


@dataclass
class Lane:
    """One thread: its name, where it sorts, its spans [(start, end)] by kind, the syscall names
    beside them, and its instants [(ts, kind)]."""

    key: tuple
    name: str
    sort_index: float = None
    spans: dict = field(default_factory=lambda: {HOLD: [], WAIT: [], SYSCALL: []})
    syscall_names: list = field(default_factory=list)
    instants: list = field(default_factory=list)


@dataclass
class Trace:
    """A whole trace: where it came from, its title, the span it covers (µs), lanes in order,
    hand-offs [(ts_from, lane_from, ts_to, lane_to)] and the events the server dropped."""

    path: str
    title: str
    policy: str
    start: float
    end: float
    lanes: list
    flows: list
    dropped: int = 0
    dropped_by_thread: dict = field(default_factory=dict)

    @property
    def label(self):
        return self.policy or os.path.basename(self.path)


def load(path):
    """The Trace in a file; ValueError (one line, naming the file) when it is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ValueError(f"no such trace file: '{path}'") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read the trace '{path}': {e}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"'{path}' is not JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    return parse(doc, path)


def _events(doc, path):
    events = doc.get("traceEvents") if isinstance(doc, dict) else doc
    if not isinstance(events, list):
        raise ValueError(f"'{path}' has no traceEvents list (not a trace convoy-server --trace wrote)")
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            raise ValueError(f"'{path}': event {i} is not an object")
        needed = ("ph", "pid", "tid") if e.get("ph") == "M" else ("ph", "ts", "pid", "tid")
        missing = [k for k in needed if k not in e]
        if missing:
            raise ValueError(f"'{path}': event {i} has no {'/'.join(missing)}: {_short(e)}")
        if "ts" in e and not _is_number(e["ts"]):
            raise ValueError(f"'{path}': event {i} has a ts that is not a number: {_short(e)}")
        if e["ph"] == "X" and not (_is_number(e.get("dur")) and e["dur"] >= 0):
            raise ValueError(f"'{path}': complete event {i} has no duration (dur): {_short(e)}")
    return events


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _short(e):
    text = json.dumps(e)
    return text if len(text) <= 100 else text[:97] + "..."


def parse(doc, path="trace"):
    """The Trace in a decoded trace-event document."""
    events = _events(doc, path)
    other = doc.get("otherData", {}) if isinstance(doc, dict) else {}
    other = other if isinstance(other, dict) else {}
    lanes, title, flows_open, flows = {}, None, {}, []

    def lane(e):
        key = (e["pid"], e["tid"])
        if key not in lanes:
            lanes[key] = Lane(key, f"tid {e['tid']}")
        return lanes[key]

    for e in events:
        ph, name, args = e["ph"], e.get("name"), e.get("args") or {}
        if ph == "M":
            if name == "process_name":
                title = title or args.get("name")
            elif name == "thread_name" and isinstance(args.get("name"), str):
                lane(e).name = args["name"]
            elif name == "thread_sort_index" and _is_number(args.get("sort_index")):
                lane(e).sort_index = args["sort_index"]
        elif ph == "X":
            kind = _SPAN_NAMES.get(name) if e.get("cat") == "lock" else \
                SYSCALL if e.get("cat") == "syscall" else None
            if kind:
                span = (float(e["ts"]), float(e["ts"]) + float(e["dur"]))
                lane(e).spans[kind].append(span)
                if kind == SYSCALL:
                    lane(e).syscall_names.append(name)
        elif ph in ("i", "I") and name in _INSTANTS:
            lane(e).instants.append((float(e["ts"]), _INSTANTS[name]))
        elif ph in ("s", "f") and e.get("cat") == "handoff" and "id" in e:
            if ph == "s":
                flows_open[e["id"]] = (float(e["ts"]), lane(e).key)
            elif e["id"] in flows_open:
                ts, key = flows_open.pop(e["id"])
                flows.append((ts, key, float(e["ts"]), lane(e).key))
    # A named thread keeps its lane when it did nothing in the window (main, blocked in accept).
    found = list(lanes.values())
    if not any(any(l.spans.values()) or l.instants for l in found):
        raise ValueError(f"'{path}' has no thread events (no waits, holds, syscalls or instants)")
    for l in found:
        for kind in (HOLD, WAIT):
            l.spans[kind].sort()
        calls = sorted(zip(l.spans[SYSCALL], l.syscall_names))
        l.spans[SYSCALL], l.syscall_names = [c[0] for c in calls], [c[1] for c in calls]
        l.instants.sort()
    start, end = _span(found, other.get("window_ns"))
    ordered = order_lanes(found)
    keep = {l.key for l in ordered}
    flows = [f for f in flows if f[1] in keep and f[3] in keep]
    dropped = other.get("dropped_events", 0)
    by_thread = other.get("dropped_by_thread")
    return Trace(path=path, title=str(other.get("title") or title or ""),
                 policy=str(other.get("policy") or ""), start=start, end=end, lanes=ordered,
                 flows=sorted(flows), dropped=dropped if _is_number(dropped) else 0,
                 dropped_by_thread={k: v for k, v in by_thread.items() if _is_number(v) and v > 0}
                 if isinstance(by_thread, dict) else {})


def _span(lanes, window_ns):
    """(start, end) in µs: the recorded window (otherData.window_ns; a wait or a syscall under way
    when it opened may begin before it), or without one (or one that misses every event) from the
    first event to the end of the last."""
    times = [t for l in lanes for spans in l.spans.values() for span in spans for t in span]
    times += [ts for l in lanes for ts, _ in l.instants]
    first, last = min(times), max(times)
    if isinstance(window_ns, list) and len(window_ns) == 2 and all(map(_is_number, window_ns)):
        start, end = window_ns[0] / 1000, window_ns[1] / 1000
        if start < end and start <= last and first <= end:
            return start, end
    return first, last if last > first else first + 1.0


def _role(name):
    """(rank, number) of a thread name: main, then io-K, then fib-K, then the rest."""
    match = re.fullmatch(r"([a-z]+)(?:-([0-9]+))?", name)
    if not match:
        return len(_ROLES), math.inf
    role, number = match.group(1), int(match.group(2)) if match.group(2) else -1
    return (_ROLES.index(role) if role in _ROLES else len(_ROLES)), number


def order_lanes(lanes):
    """Lanes in the order the trace's thread_sort_index gives; those without one after them,
    main, io-K and fib-K by K, then the rest by name."""
    def key(l):
        if l.sort_index is not None:
            return (0, l.sort_index, *_role(l.name), l.name)
        return (1, 0, *_role(l.name), l.name)
    return sorted(lanes, key=key)


# --- Windows and summaries.

def check_window(trace, from_ms=None, to_ms=None):
    """(start, end) in µs of the window to show: the whole trace by default; from/to (ms from
    the start of the run) must be numbers, from < to, inside the trace."""
    start = trace.start if from_ms is None else _ms_to_us("--from", from_ms)
    end = trace.end if to_ms is None else _ms_to_us("--to", to_ms)
    if start >= end:
        raise ValueError(f"--from ({_ms(start)} ms) must be before --to ({_ms(end)} ms)")
    if start < trace.start - _EPS_US or end > trace.end + _EPS_US:
        raise ValueError(f"{_ms(start)}-{_ms(end)} ms is outside the trace '{trace.path}', which "
                         f"covers {_ms(trace.start)}-{_ms(trace.end)} ms of the run")
    return start, end


def _ms_to_us(option, value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{option}: '{value}' is not a number of milliseconds") from None
    if not math.isfinite(number):
        raise ValueError(f"{option}: '{value}' is not a number of milliseconds")
    return number * 1000


def _ms(us):
    return f"{us / 1000:.3f}".rstrip("0").rstrip(".")


def clip(spans, start, end):
    """The parts of sorted (s, e) spans inside [start, end]."""
    return [(max(s, start), min(e, end)) for s, e in spans if e > start and s < end]


def _covered(spans):
    """Total length of the union of sorted spans."""
    total, reach = 0.0, -math.inf
    for s, e in spans:
        if e > reach:
            total += e - max(s, reach)
            reach = e
    return total


def summarize(trace, start, end):
    """Per lane, over [start, end]: the share of the window holding, waiting and in syscalls,
    the number of waits in it (a wait cut by an edge counts) and the longest of them, whole."""
    length = end - start
    result = []
    for l in trace.lanes:
        shares = {k: _covered(clip(l.spans[k], start, end)) / length for k in (HOLD, WAIT, SYSCALL)}
        waits = [(s, e) for s, e in l.spans[WAIT] if e > start and s < end]
        result.append({"thread": l.name, "hold": shares[HOLD], "wait": shares[WAIT],
                       "syscall": shares[SYSCALL], "waits": len(waits),
                       "longest_wait_us": max((e - s for s, e in waits), default=0.0)})
    return result


def summary_lines(trace, start, end):
    """The summary as text, one line per thread."""
    rows = summarize(trace, start, end)
    width = max(len(r["thread"]) for r in rows)
    lines = []
    for r in rows:
        longest = f", longest {units.format_ns(r['longest_wait_us'] * 1000)}" if r["waits"] else ""
        lines.append(f"{r['thread']:<{width}}  holds {100 * r['hold']:5.1f}%  waits "
                     f"{100 * r['wait']:5.1f}%  syscalls {100 * r['syscall']:5.1f}%  "
                     f"{r['waits']} wait{'s' if r['waits'] != 1 else ''}{longest}")
    return lines


def dropped_text(trace):
    """What the server could not record, or ''."""
    if trace.dropped <= 0:
        return ""
    who = ", ".join(f"{k} {units.grouped(v)}" for k, v in sorted(trace.dropped_by_thread.items()))
    return (f"{units.grouped(trace.dropped)} events dropped (a thread's trace buffer was full"
            f"{': ' + who if who else ''}); the lanes miss them")


# --- Pictures.

def _title(trace):
    return trace.title or " ".join(p for p in (trace.policy, os.path.basename(trace.path)) if p)


def _draw_lanes(ax, trace, start, end, offset, show_flows=True):
    """The lanes of a trace on one axes, x in ms (time minus `offset` µs); lane 0 on top."""
    n = len(trace.lanes)
    row = {l.key: n - 1 - i for i, l in enumerate(trace.lanes)}
    x = lambda us: (us - offset) / 1000  # noqa: E731
    for l in trace.lanes:
        y = row[l.key]
        for kind, height in ((SYSCALL, 0.5), (WAIT, 0.5), (HOLD, 0.7)):
            bars = [(x(s), (e - s) / 1000) for s, e in clip(l.spans[kind], start, end)]
            if bars:
                color = SPAN_STYLE[kind][1]
                # An edge as wide as a hairline keeps spans thinner than a pixel visible.
                ax.broken_barh(bars, (y + 0.5 - height / 2, height), facecolors=color,
                               edgecolors=color, linewidth=0.3)
        for kind, (_, color, marker, at) in INSTANT_STYLE.items():
            ts = [x(t) for t, k in l.instants if k == kind and start <= t <= end]
            if ts:
                ax.scatter(ts, [y + at] * len(ts), s=18, marker=marker, color=color,
                           facecolors="none" if marker == "o" else color, linewidths=0.9, zorder=3)
    flows = [f for f in trace.flows if start <= f[0] <= end or start <= f[2] <= end]
    if show_flows and len(flows) <= _MAX_FLOWS:
        for t0, k0, t1, k1 in flows:
            ax.annotate("", xy=(x(t1), row[k1] + 0.5), xytext=(x(t0), row[k0] + 0.5),
                        arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 0.6, "alpha": 0.7},
                        zorder=2)
    ax.set_yticks([row[l.key] + 0.5 for l in trace.lanes], [l.name for l in trace.lanes])
    ax.set_ylim(0, n)
    ax.grid(True, axis="x", alpha=0.4)
    return len(flows) <= _MAX_FLOWS and bool(flows)


def _finish(fig, with_flows, notes):
    """The legend under the axes and the notes (in red) under the legend, with room for both."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    handles = [Patch(color=color, label=label) for label, color in SPAN_STYLE.values()]
    handles += [Line2D([], [], ls="", marker=marker, color=color, label=label,
                       markerfacecolor="none" if marker == "o" else color)
                for label, color, marker, _ in INSTANT_STYLE.values()]
    if with_flows:
        handles.append(Line2D([], [], color="#555555", lw=0.8, label="hand-off"))
    notes = [n for n in notes if n]
    height = fig.get_figheight()
    notes_in = 0.05 + 0.16 * len(notes)
    if notes:
        fig.text(0.01, 0.04 / height, "\n".join(notes), fontsize=8, color="#b00000", va="bottom")
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=True,
               bbox_to_anchor=(0.5, notes_in / height))
    fig.tight_layout(rect=(0, (notes_in + 0.55) / height, 1, 1))


def draw(trace, png, start, end):
    """One trace's lanes over [start, end] (µs) as a PNG, through a temporary file; returns png."""
    plt = plots.pyplot()
    n = len(trace.lanes)
    fig, ax = plt.subplots(figsize=(12, 2.4 + 0.45 * min(n, 40)), dpi=100)
    fig.suptitle(f"GIL timeline: {_title(trace)}", fontsize=12)
    sub = f"{_ms(end - start)} ms, {_ms(start)}-{_ms(end)} ms of the run"
    ax.set_title(sub, fontsize=9, color="#444444")
    flows = _draw_lanes(ax, trace, start, end, 0.0)
    ax.set_xlim(start / 1000, end / 1000)
    ax.set_xlabel("time since the run started (ms)")
    _finish(fig, flows, [dropped_text(trace)])
    return plots.save(plt, fig, png)


def panel_windows(traces, from_ms=None, to_ms=None):
    """[(start, end, notes)] in µs per trace, every window as long as the others: [from, to]
    when given (each trace showing what part of it it covers), else from each trace's start as
    long as the longest trace. notes say where a trace is shorter."""
    if (from_ms is None) != (to_ms is None):
        raise ValueError("give both --from and --to, or neither")
    windows = []
    if from_ms is not None:
        start, end = _ms_to_us("--from", from_ms), _ms_to_us("--to", to_ms)
        if start >= end:
            raise ValueError(f"--from ({_ms(start)} ms) must be before --to ({_ms(end)} ms)")
        for t in traces:
            if t.end <= start or t.start >= end:
                raise ValueError(f"'{t.path}' has nothing in {_ms(start)}-{_ms(end)} ms (it covers "
                                 f"{_ms(t.start)}-{_ms(t.end)} ms of the run)")
            windows.append((start, end, _short_note(t, max(start, t.start), min(end, t.end), end - start)))
        return windows
    length = max(t.end - t.start for t in traces)
    for t in traces:
        windows.append((t.start, t.start + length, _short_note(t, t.start, t.end, length)))
    return windows


def _short_note(trace, covered_from, covered_to, length):
    if covered_to - covered_from >= length - _EPS_US:
        return ""
    return (f"{trace.label}: the trace covers only {_ms(covered_to - covered_from)} of these "
            f"{_ms(length)} ms ({_ms(covered_from)}-{_ms(covered_to)} ms of the run)")


def draw_stack(png, traces, windows):
    """One panel per trace, top to bottom, each over its window (all of one length) on a shared
    x axis: run time when the windows start together, else time since each window's start."""
    plt = plots.pyplot()
    together = all(abs(w[0] - windows[0][0]) < _EPS_US for w in windows)
    heights = [max(len(t.lanes), 1) + 1.2 for t in traces]
    fig, axes = plt.subplots(len(traces), 1, sharex=True, dpi=100, squeeze=False,
                             figsize=(12, 2.4 + 0.45 * min(sum(heights), 60)),
                             gridspec_kw={"height_ratios": heights})
    length = windows[0][1] - windows[0][0]
    fig.suptitle(f"GIL timelines, the same {_ms(length)} ms of each run", fontsize=12)
    flows = False
    for ax, t, (start, end, note) in zip(axes[:, 0], traces, windows):
        offset = 0.0 if together else start
        flows |= _draw_lanes(ax, t, start, end, offset)
        where = "" if together else f" (from {_ms(start)} ms of the run)"
        ax.set_title(textwrap.shorten(_title(t) + where, 160), fontsize=9, loc="left")
        # What the trace does not cover, shaded.
        for left, right in ((start, min(t.start, end)), (max(t.end, start), end)):
            if right > left + _EPS_US:
                ax.axvspan((left - offset) / 1000, (right - offset) / 1000, color="#dddddd",
                           zorder=0)
    ax = axes[-1, 0]
    first = windows[0][0]
    ax.set_xlim((first if together else 0) / 1000, ((first if together else 0) + length) / 1000)
    ax.set_xlabel("time since the run started (ms)" if together else
                  "time since the start of each panel (ms)")
    notes = [w[2] for w in windows] + [dropped_text(t) and f"{t.label}: {dropped_text(t)}"
                                       for t in traces]
    _finish(fig, flows, notes)
    return plots.save(plt, fig, png)


# --- The commands.

def timeline_command(path, png=None, from_ms=None, to_ms=None, summary=True):
    """(stdout lines, stderr notes) of drawing one trace; png defaults to the trace's name with
    .png for .json."""
    trace = load(path)
    start, end = check_window(trace, from_ms, to_ms)
    png = png or default_png(path)
    lines = summary_lines(trace, start, end) if summary else []
    notes = [dropped_text(trace)] if trace.dropped > 0 else []
    draw(trace, png, start, end)
    return lines + [f"wrote {png}"], notes


def timelines_command(png, paths, from_ms=None, to_ms=None, summary=True):
    """(stdout lines, stderr notes) of the stacked comparison of several traces."""
    traces = [load(p) for p in paths]
    windows = panel_windows(traces, from_ms, to_ms)
    lines, notes = [], []
    for t, (start, end, note) in zip(traces, windows):
        if summary:
            lines.append(f"{t.label} ({_ms(max(start, t.start))}-{_ms(min(end, t.end))} ms):")
            lines += ["  " + line for line in summary_lines(t, max(start, t.start), min(end, t.end))]
        notes += [note] if note else []
        notes += [f"{t.label}: {dropped_text(t)}"] if t.dropped > 0 else []
    draw_stack(png, traces, windows)
    return lines + [f"wrote {png}"], notes


def default_png(path):
    return (path[:-5] if path.endswith(".json") else path) + ".png"
