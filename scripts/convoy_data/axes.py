"""The axes a sweep can vary: one table, from which the sweep file's variables, the programs'
options, point ids and labels, CSV columns and plot labels are all derived.

Adding an axis is one row in AXES. The knobs of the lock policies are axes too, made from what
convoy-server lists (knob_axes): a sweep file sets `switch_intervals="1ms 5ms"` for a knob whose
option is --switch-interval, and it applies to the policies that have that knob.
"""

import dataclasses
import re

from . import policies as policy_list
from . import units


@dataclasses.dataclass(frozen=True)
class Axis:
    name: str  # key in a point's params
    var: str  # the sweep-file variable listing its values
    side: str  # "server" or "client": whose option it is
    option: str  # the option, without the dashes
    kind: str  # policy, count, number, duration, bool or word
    default: tuple = ()  # values when the sweep file does not set it; () = the program's default
    label: str = ""  # what plots call it
    short: str = ""  # its prefix in point ids ("" = the value alone)
    only: tuple = ()  # (axis name, value) pairs a point must have for this axis to apply
    knob_of: tuple = ()  # for a policy's knob: the policies that have it
    key: str = ""  # for a policy's knob: its key in the server's lock config (switch_interval_ns)
    limits: tuple = ()  # for a policy's knob: (lowest, highest) as the list gives them
    choices: tuple = ()  # the values a word may take, when the scripts depend on them
    caption: str = ""  # how a plot's subtitle says a fixed value ({} = the value); "" = label value

    @property
    def column(self):
        """Its CSV column: durations are in microseconds, as every time in the CSV."""
        return f"{self.name}_us" if self.kind == "duration" else self.name

    @property
    def variables(self):
        """The sweep-file variable and its singular spelling: switch_intervals, switch_interval."""
        return (self.var, self.name) if self.var != self.name else (self.var,)

    def applies(self, params):
        if self.knob_of and params.get("policy") not in self.knob_of:
            return False
        return all(params.get(name) == value for name, value in self.only)


# In the order points are expanded, ids are built and CSV columns appear. Knobs go after cpu_threads.
AXES = (
    Axis("policy", "policies", "server", "policy", "policy", ("none", "py2", "py3"), "policy"),
    Axis("cpu_threads", "cpu_threads", "server", "cpu-threads", "count", ("1",), "fib threads", "c"),
    Axis("io_release", "io_releases", "server", "io-release", "word", (), "I/O release", "io"),
    # How the server serves its connections (a thread each, or one event loop).
    Axis("io_model", "io_models", "server", "io-model", "word", (), "I/O model", "im"),
    Axis("fib_depth", "fib_depths", "server", "fib-depth", "count", (), "fib depth", "fd"),
    Axis("size", "sizes", "client", "size", "count", ("100",), "message size (bytes)", "s",
         caption="{} B messages"),
    Axis("mode", "modes", "client", "mode", "word", ("closed",), "client mode", "",
         choices=("closed", "open"), caption="{} loop"),
    Axis("think", "think", "client", "think", "duration", ("2ms",), "think time", "think",
         only=(("mode", "closed"),), caption="think {}"),
    Axis("rate", "rates", "client", "rate", "number", ("500",), "offered rate (requests/s)", "rate",
         only=(("mode", "open"),), caption="{} requests/s offered"),
    Axis("arrival", "arrival", "client", "arrival", "word", ("uniform",), "arrival", "",
         only=(("mode", "open"),)),
    Axis("connections", "connections", "client", "connections", "count", ("1",), "connections",
         "conn"),
)
_KNOBS_AFTER = "cpu_threads"


def _kind(knob):
    if policy_list.is_duration(knob):
        return "duration"
    text = str(knob.get("type", "")).lower()
    if "bool" in text:
        return "bool"
    if "int" in text or "count" in text:
        return "count"
    return "word"


def knob_axes(policies):
    """An axis per knob of the listed policies; its id prefix is its initials unless taken."""
    taken = {a.short for a in AXES} | {a.name for a in AXES}
    made = []
    for knob in policy_list.knobs(policies):
        option = policy_list.option(knob)
        name = option.replace("-", "_")
        if not option or name in {a.name for a in AXES}:
            continue
        short = "".join(word[0] for word in option.split("-"))
        short = name if short in taken else short
        taken.add(short)
        made.append(Axis(name, f"{name}s", "server", option, _kind(knob), (),
                         option.replace("-", " "), short, knob_of=tuple(knob["policies"]),
                         key=policy_list.stats_key(knob), choices=tuple(knob.get("choices") or ()),
                         limits=(knob["min"], knob["max"]) if "min" in knob and "max" in knob else ()))
    return made


def all_axes(policies):
    """AXES with the policies' knobs in place (just AXES when no list is known)."""
    at = [a.name for a in AXES].index(_KNOBS_AFTER) + 1
    return list(AXES[:at]) + (knob_axes(policies) if policies else []) + list(AXES[at:])


def check_value(axis, value):
    """ValueError unless `value` is one the axis can take."""
    if axis.kind == "count" and not re.fullmatch(r"[0-9]+", value):
        raise ValueError(f"'{value}' is not a whole number")
    if axis.kind == "number":
        try:
            ok = 0 < float(value) < float("inf")
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"'{value}' is not a positive number")
    if axis.kind == "duration":
        units.parse_duration_ns(value)
    if axis.kind == "bool" and value.lower() not in ("true", "false", "on", "off", "1", "0"):
        raise ValueError(f"'{value}' is not true or false")
    if axis.kind in ("word", "policy") and not re.fullmatch(r"[A-Za-z0-9_.+:-]+", value):
        raise ValueError(f"'{value}' is not a single word")
    if axis.choices and value not in axis.choices:
        raise ValueError(f"'{value}' is not one of {', '.join(axis.choices)}")
    if axis.limits and axis.kind in ("duration", "count"):
        measure = units.parse_duration_ns if axis.kind == "duration" else float
        low, high = axis.limits
        if not measure(low) <= measure(value) <= measure(high):
            raise ValueError(f"'{value}' is not in [{low}, {high}]")


def to_csv(axis, value):
    """A value as the CSV holds it: durations (strings with a unit, or nanoseconds) in µs."""
    if value is None:
        return ""
    if axis.kind == "duration":
        ns = units.parse_duration_ns(value) if isinstance(value, str) else float(value)
        return units.number(ns / 1000, 6)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_dict(axis):
    return dataclasses.asdict(axis)


def from_dict(value):
    fields = {f.name for f in dataclasses.fields(Axis)}
    value = {k: tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v
             for k, v in value.items() if k in fields}
    return Axis(**value)


def for_column(column):
    """The axis of a CSV column. A column no row of AXES names is a policy's knob (or one of an
    older CSV): its axis is made from the column's name, marked as a knob of unknown policies."""
    for axis in AXES:
        if axis.column == column:
            return axis
    duration = column.endswith("_us")
    name = column[:-3] if duration else column
    return Axis(name, f"{name}s", "server", name.replace("_", "-"),
                "duration" if duration else "word", (), name.replace("_", " "), knob_of=("?",))


def shown(axis, text):
    """A CSV value as a reader wants it: '5 ms' for 5000 in a µs column, '100' for '100.0'."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return str(text)
    return units.format_ns(value * 1000) if axis.kind == "duration" else units.number(value)


def caption(axis, text):
    """'1 fib threads', 'think 2 ms', 'switch interval 5 ms': a fixed value in a subtitle."""
    return (axis.caption or f"{axis.label} {{}}").format(shown(axis, text))
