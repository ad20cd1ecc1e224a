"""A sweep: the settings of a sweep file, the plan of its points, and the CSV of their results.

A sweep file is a shell file that sets lists (`policies="none py3"`, `cpu_threads="0 1 2"`); the
axes module says which variables there are. The plan is every combination (repetitions outermost,
so that the repetitions of a point are spread over the run), written as OUT/plan.json and, per
point, OUT/points/ID/{params.json, server.args, client.args} for the shell runner.
"""

import itertools
import math
import os
import re
import subprocess

from . import axes as axes_mod
from . import points, policies, units

# Settings that are not axes: one value each, with their defaults.
SCALARS = {"duration": "3s", "warmup": "0.5s", "repetitions": "1", "reply_timeout": "2s"}
# Extra arguments for every server or client, passed as they are.
EXTRAS = ("server_extra", "client_extra")
# reply_timeout: how long a client waits for one reply before it counts the request as lost.

# Sources a sweep file in a clean bash and prints the lower-case variables it set (bash's own are
# upper-case): kind (a = array, s = string), name, count of an array, values; NUL-separated.
_DUMP = r"""
source "$1" >&2 || exit 1
for _v in $(compgen -v); do
  [[ $_v =~ ^[a-z][a-z0-9_]*$ ]] || continue
  if [[ "$(declare -p "$_v" 2>/dev/null)" == "declare -a"* ]]; then
    declare -n _ref=$_v
    printf 'a\0%s\0%s\0' "$_v" "${#_ref[@]}"
    ((${#_ref[@]} == 0)) || printf '%s\0' "${_ref[@]}"
    unset -n _ref
  else
    printf 's\0%s\0%s\0' "$_v" "${!_v}"
  fi
done
"""


def read_sweep_file(path):
    """{variable: [values]} for every variable the sweep file sets (lists split on blanks)."""
    if not os.path.isfile(path):
        raise ValueError(f"no such sweep file: '{path}'")
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", _DUMP, "bash", path], env=_clean_env(),
                          capture_output=True, timeout=30, check=False)
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise ValueError(f"the sweep file '{path}' failed to load{': ' + why[-1] if why else ''}")
    return _parse_dump(done.stdout.decode(errors="replace").split("\0"))


def _clean_env():
    """PATH and HOME only: settings in the caller's environment must not leak into the sweep."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}


def _parse_dump(fields):
    found, i = {}, 0
    while i + 2 < len(fields):
        kind, name = fields[i], fields[i + 1]
        if kind == "a":
            count = int(fields[i + 2])
            found[name] = fields[i + 3:i + 3 + count]
            i += 3 + count
        else:
            found[name] = fields[i + 2].split()
            i += 3
    return found


def parse_assignments(pairs):
    """{name: [values]} from NAME=VALUE strings; values split on blanks."""
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not NAME=VALUE: '{pair}'")
        found[name] = value.split()
    return found


def settings_help():
    """What a sweep file may set, with the defaults, one setting a line."""
    lines = []
    for axis in axes_mod.AXES:
        default = f'"{" ".join(axis.default)}"' if axis.default else "the program's default"
        when = " ".join(f"({name}={value})" for name, value in axis.only)
        lines.append(f"  {axis.var:<14} [{default}] {when}".rstrip())
        if axis.name == "policy":
            lines.append('                 "all" = every policy convoy-server --list-policies names')
            lines.append("  <knob>s        a policy's knob, named after its option: switch_intervals for "
                         "--switch-interval;\n                 it applies to the policies that have it")
    lines += [f"  {name:<14} [{value}]" for name, value in SCALARS.items()]
    lines.append("  server_extra=() client_extra=()   arguments for every server, every client")
    return "\n".join(lines)


def _axis_values(raw):
    return [v for item in raw for v in re.split(r"[\s,]+", item) if v]


def _single(settings, name):
    values = settings.get(name, [SCALARS[name]])
    if len(values) != 1:
        raise ValueError(f"{name} takes one value, not '{' '.join(values)}'")
    return values[0]


def check(settings, policy_list=None):
    """The validated settings: {axis name: [values]}, scalars and extras. ValueError naming the
    first bad setting. Without a policy list, policy names and knobs are checked only for form."""
    axis_list = axes_mod.all_axes(policy_list)
    by_var = {var: a for a in axis_list for var in a.variables}
    if policy_list is not None:
        unknown = sorted(set(settings) - set(by_var) - set(SCALARS) - set(EXTRAS))
        if unknown:
            raise ValueError(f"unknown setting '{unknown[0]}' (known: "
                             f"{' '.join(sorted(set(by_var) | set(SCALARS) | set(EXTRAS)))})")
    values = {}
    for axis in axis_list:
        given = [var for var in axis.variables if var in settings]
        raw = _axis_values(settings[given[0]]) if given else list(axis.default)
        if given and not raw:
            raise ValueError(f"{given[0]} is set but empty")
        for value in raw:
            try:
                axes_mod.check_value(axis, value)
            except ValueError as e:
                raise ValueError(f"{given[0] if given else axis.var}: {e}") from None
        if axis.kind == "policy" and policy_list is not None:
            raw = policies.expand(raw, policy_list)
        values[axis.name] = raw
    _check_knobs(values, axis_list)
    return values | _check_scalars(settings)


def _check_knobs(values, axis_list):
    for axis in axis_list:
        if axis.knob_of and values[axis.name] and not set(axis.knob_of) & set(values["policy"]):
            raise ValueError(f"{axis.var} is set, but none of the policies "
                             f"({' '.join(values['policy'])}) has --{axis.option}")


def _check_scalars(settings):
    found = {}
    for name in ("duration", "warmup", "reply_timeout"):
        try:
            units.parse_duration_ns(_single(settings, name))
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
        found[name] = _single(settings, name)
    if not re.fullmatch(r"[1-9][0-9]*", _single(settings, "repetitions")):
        raise ValueError(f"repetitions must be a positive whole number, not "
                         f"'{_single(settings, 'repetitions')}'")
    found["repetitions"] = int(_single(settings, "repetitions"))
    for name in EXTRAS:
        found[name] = list(settings.get(name, []))
    return found


def _expand(axis_list, values):
    partials = [{}]
    for axis in axis_list:
        grown = []
        for p in partials:
            if axis.applies(p) and values[axis.name]:
                grown += [dict(p, **{axis.name: v}) for v in values[axis.name]]
            else:
                grown.append(p)
        partials = grown
    return partials


def _varying(axis_list, combos):
    return [a for a in axis_list if len({c.get(a.name) for c in combos if a.name in c}) > 1]


def _ident(combo, varying, rep, repetitions):
    parts = [combo.get("policy", "point")]
    parts += [f"{a.short}{combo[a.name]}" for a in varying if a.name != "policy" and a.name in combo]
    parts += [f"r{rep}"] if repetitions > 1 else []
    return "-".join(re.sub(r"[^A-Za-z0-9._]", "_", p) for p in parts)


def _label(combo, varying, rep, repetitions):
    words = [combo.get("policy", "point")]
    words += [f"{a.option}={combo[a.name]}" for a in varying if a.name != "policy" and a.name in combo]
    words += [f"rep={rep}"] if repetitions > 1 else []
    return " ".join(words)


def _args(axis_list, combo, side):
    return [x for a in axis_list if a.side == side and a.name in combo
            for x in (f"--{a.option}", combo[a.name])]


def plan(settings, policy_list, notes=None):
    """The plan: {"axes": [...], "points": [{id, label, params, server_args, client_args,
    timeout_s}]} for validated settings."""
    values = check(settings, policy_list)
    axis_list = axes_mod.all_axes(policy_list)
    combos = _expand(axis_list, values)
    varying = _varying(axis_list, combos)
    reps = values["repetitions"]
    timeout = math.ceil(units.seconds(values["duration"]) + units.seconds(values["warmup"]) +
                        units.seconds(values["reply_timeout"]) + 30)
    planned, seen = [], set()
    for rep, combo in itertools.product(range(1, reps + 1), combos):
        ident = _ident(combo, varying, rep, reps)
        while ident in seen:
            ident += "_"
        seen.add(ident)
        params = dict(combo, id=ident, rep=rep, duration=values["duration"], warmup=values["warmup"],
                      server_extra=values["server_extra"], client_extra=values["client_extra"])
        params.update(notes or {})
        client = _args(axis_list, combo, "client") + [
            "--duration", values["duration"], "--warmup", values["warmup"],
            "--timeout", values["reply_timeout"]] + values["client_extra"]
        planned.append({"id": ident, "label": _label(combo, varying, rep, reps), "params": params,
                        "server_args": _args(axis_list, combo, "server") + values["server_extra"],
                        "client_args": client, "timeout_s": timeout})
    return {"axes": [axes_mod.to_dict(a) for a in axis_list], "points": planned}


def write_plan(out, the_plan):
    """OUT/plan.json, and per point OUT/points/ID/{params.json, server.args, client.args}."""
    os.makedirs(out, exist_ok=True)
    points.write_json(os.path.join(out, "plan.json"), the_plan)
    for p in the_plan["points"]:
        d = point_dir(out, p["id"])
        os.makedirs(d, exist_ok=True)
        points.write_json(os.path.join(d, "params.json"), p["params"])
        for side in ("server", "client"):
            with open(os.path.join(d, f"{side}.args"), "w", encoding="utf-8") as f:
                f.write("".join(f"{a}\0" for a in p[f"{side}_args"]))


def point_dir(out, ident):
    return os.path.join(out, "points", ident)


def todo_lines(out, the_plan):
    """'ID<TAB>done|todo<TAB>TIMEOUT_S<TAB>LABEL' per point, for the shell runner."""
    lines = []
    for p in the_plan["points"]:
        state = "done" if points.is_done(point_dir(out, p["id"]), p["params"]) else "todo"
        lines.append(f"{p['id']}\t{state}\t{p['timeout_s']}\t{p['label']}")
    return lines


def load_plan(out):
    the_plan = points.load_json(os.path.join(out, "plan.json"))
    if not isinstance(the_plan, dict) or "points" not in the_plan:
        raise ValueError(f"no plan in '{out}' (plan.json is missing or broken)")
    return the_plan
