"""Grouping rows and reducing repetitions: medians, maxima, what varies and what stays fixed."""

import dataclasses
import math

# What a column holds where it does not apply ("-") or where nothing was measured ("").
_ABSENT = ("-", "", None)


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def as_number(text):
    """float(text), or None for "-", "", a word, NaN or infinity."""
    if text in _ABSENT:
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def groups(rows, columns):
    """{(values of columns): [rows]} in the order the rows come."""
    found = {}
    for r in rows:
        found.setdefault(tuple(r.get(c, "") for c in columns), []).append(r)
    return found


def distinct(rows, column):
    """The values a column takes (in order of appearance), ignoring "-" and ""."""
    return list(dict.fromkeys(r.get(column) for r in rows if r.get(column) not in _ABSENT))


def varying(columns, rows):
    return [c for c in columns if len(distinct(rows, c)) > 1]


def fixed(columns, rows):
    """{column: (value, policies)} for columns with one value; policies lists the rows' policies
    that have it when some rows do not (a knob of one policy), else None."""
    found = {}
    for c in columns:
        values = distinct(rows, c)
        if len(values) != 1:
            continue
        having = distinct([r for r in rows if r.get(c) not in _ABSENT], "policy")
        every = distinct(rows, "policy")
        found[c] = (values[0], having if having != every else None)
    return found


@dataclasses.dataclass
class Reduced:
    """The repetitions of one point: medians and maxima of each metric, the runs themselves."""
    x: float | None
    runs: dict  # metric -> [value per repetition]

    @property
    def n(self):
        return max((len(v) for v in self.runs.values()), default=0)

    def median(self, metric):
        return median(self.runs[metric])

    def maximum(self, metric):
        return max((v for v in self.runs[metric] if v is not None), default=None)


def series(rows, x, split, metrics):
    """{series key: [Reduced, sorted by x]}: rows grouped by the `split` columns, and within each
    group by x. A series whose rows have no x (a knob its policy lacks) is one Reduced, x None."""
    found = {}
    for key, members in groups(rows, split).items():
        reduced = []
        for (xv,), runs in groups(members, [x]).items():
            values = {m: [as_number(r.get(m)) for r in runs] for m in metrics}
            reduced.append(Reduced(as_number(xv), values))
        reduced.sort(key=lambda r: -math.inf if r.x is None else r.x)
        found[key] = reduced
    return found
