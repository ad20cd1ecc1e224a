"""Durations as the scripts take them, and the unit a set of values reads best in."""

import re

# A number and a unit, as convoy-server and convoy-client both accept: 500us, 2ms, 1.5s, 2m.
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m)$")
_NS_PER = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9}
# Units for values in nanoseconds, smallest first, with the label a plot or a table uses.
TIME_UNITS = (("ns", 1.0), ("µs", 1e3), ("ms", 1e6), ("s", 1e9))


def parse_duration_ns(text):
    """Nanoseconds in a duration such as '500us'; ValueError with the accepted form otherwise."""
    if str(text).strip() == "0":
        return 0.0  # the one number without a unit, as convoy-server and convoy-client read it
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ValueError(f"'{text}' is not a duration (a number and a unit: 500us, 2ms, 1.5s, 2m; "
                         "or 0)")
    return float(match.group(1)) * _NS_PER[match.group(2)]


def seconds(text):
    return parse_duration_ns(text) / 1e9


def best_time_unit(values_ns):
    """(label, nanoseconds per unit): the largest unit in which the largest value is at least 1."""
    largest = max((abs(v) for v in values_ns if v is not None), default=0.0)
    chosen = TIME_UNITS[0]
    for unit in TIME_UNITS:
        if largest >= unit[1]:
            chosen = unit
    return chosen


def format_ns(ns):
    """A duration in the unit that reads best: '5 ms', '500 µs', '1.5 s'."""
    label, per = best_time_unit([ns])
    return f"{number(ns / per)} {label}"


def number(value, digits=3):
    """A number with at most `digits` significant digits and no needless zeros: 0.1, 5, 1.25e+06."""
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.{digits}g}"


def grouped(value):
    """A count with thousands separated by a thin space: 1 804."""
    return f"{int(round(value)):,}".replace(",", "\u2009")
