"""One row per point: the sweep CSV, and what the tables and plots read from it.

Columns: point, one per axis (durations in µs; "-" where the axis does not apply to the point,
such as a knob of another policy), rep, status, the numbers of points.METRICS, the machine
(load_1m before the run, cpus_online), the pinning, and the error of a failed point.
"""

import csv
import os

from . import axes as axes_mod
from . import points, sweep

TAIL = ("rep", "status") + points.METRICS + (
    "load_1m", "cpus_online", "server_cpus", "client_cpus", "error")


def _reported(axis, point):
    """The value the program itself reports for an axis the plan left at its default."""
    server, client = point.get("server"), point.get("client")
    if axis.knob_of:
        return points.knobs(server).get(axis.key)
    if axis.side == "server":
        return points.get(server, f"config.{axis.name}")
    return points.get(client, f"config.{axis.option}")


def row(axis_list, point):
    """The CSV row (a dict of strings) of one point.json."""
    params = point.get("point") or {}
    result = {"point": params.get("id", "")}
    for axis in axis_list:
        if not axis.applies(params):
            result[axis.column] = "-"
            continue
        value = params.get(axis.name)
        value = _reported(axis, point) if value is None else value
        try:
            result[axis.column] = axes_mod.to_csv(axis, value)
        except ValueError:
            result[axis.column] = str(value)
    result.update(rep=str(params.get("rep", 1)), status=point.get("status") or "")
    numbers = points.metrics(point)
    for name in points.METRICS:
        result[name] = "" if numbers[name] is None else str(numbers[name])
    load = points.get(point, "machine.load_before.0")
    result.update(load_1m="" if load is None else str(load),
                  cpus_online=str(points.get(point, "machine.cpus_online", "")),
                  server_cpus=params.get("server_cpus", ""), client_cpus=params.get("client_cpus", ""),
                  error=" ".join(str(point.get("error") or "").split()))
    return result


def plan_rows(out):
    """(header, rows) for the points of OUT's plan that have a point.json."""
    the_plan = sweep.load_plan(out)
    axis_list = [axes_mod.from_dict(a) for a in the_plan["axes"]]
    found = []
    for p in the_plan["points"]:
        point = points.load_json(os.path.join(sweep.point_dir(out, p["id"]), "point.json"))
        if isinstance(point, dict):
            found.append(row(axis_list, point))
    return ["point"] + [a.column for a in axis_list] + list(TAIL), found


def write_csv(out, path):
    """Writes the CSV of OUT's plan to `path`; returns (points ok, points planned)."""
    header, found = plan_rows(out)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(found)
    os.replace(tmp, path)
    return sum(r["status"] == "ok" for r in found), len(sweep.load_plan(out)["points"])


def read_csv(path):
    """(axis columns, rows) of a sweep CSV; ValueError when it is missing or not a sweep's."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise ValueError(f"no such CSV file: '{path}'")
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        if header[:2] != ["point", "policy"]:
            raise ValueError(f"'{path}' is not a sweep CSV (no header 'point,policy,...')")
        found = list(reader)
    return axis_columns(header), found


def axis_columns(header):
    """The axis columns of a CSV header: those between 'point' and 'rep' (or 'status')."""
    end = header.index("rep") if "rep" in header else header.index("status")
    return header[1:end]
