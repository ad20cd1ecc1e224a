"""The command line: `python3 -m convoy_data COMMAND ...` (see --help of each command).

Exit status: 0 done, 1 a negative answer (a point or a check failed), 2 bad input (a one-line
message on stderr, prefixed with $CONVOY_DATA_PROG, the calling script's name)."""

import argparse
import json
import math
import os
import sys

from . import apt, bench, checks, fidelity, plots, points, policies, profile, race, seed, summary
from . import sweep, timeline, units
from . import rows as rows_mod


def _plan(a):
    settings = sweep.read_sweep_file(a.sweep_file) if a.sweep_file else {}
    settings.update(sweep.parse_assignments(a.set))
    policy_list = policies.load(a.policies) if a.policies else None
    if a.check:
        sweep.check(settings, policy_list)
        return 0
    if policy_list is None:
        raise ValueError("a plan needs the list of policies (--policies FILE)")
    notes = dict(n.partition("=")[::2] for n in a.note)
    the_plan = sweep.plan(settings, policy_list, notes)
    if a.dry_run:
        print("\n".join(p["label"] for p in the_plan["points"]))
        return 0
    if not a.out:
        raise ValueError("a plan needs --out DIR")
    sweep.write_plan(a.out, the_plan)
    print("\n".join(sweep.todo_lines(a.out, the_plan)))
    return 0


def _finish(a):
    point = points.finish(a.dir, a.started == "1", a.client_rc, a.server_rc, a.timeout,
                          expect_stats=not a.no_stats)
    print(points.outcome_line(point))
    return 0 if point["status"] == "ok" else 1


def _params(a):
    values = {}
    for pair in a.pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"not KEY=VALUE: '{pair}'")
        values[key] = int(value) if value.isdigit() else value
    os.makedirs(a.dir, exist_ok=True)
    points.write_json(os.path.join(a.dir, "params.json"), values)
    return 0


def _csv(a):
    path = a.to or os.path.join(a.out, "sweep.csv")
    ok, total = rows_mod.write_csv(a.out, path)
    print(f"csv:     {path} ({ok} of {total} points ok)")
    return 0


def _plot_sweep(a):
    for path in plots.sweep_plots(a.csv, a.out or os.path.dirname(os.path.abspath(a.csv))):
        print(f"wrote {path}")
    return 0


def _plot_percentiles(a):
    series = []
    for arg in a.series:
        label, sep, path = arg.partition("=")
        if not sep or not label or not os.path.isfile(path) or not os.path.getsize(path):
            raise ValueError(f"not LABEL=FILE with a non-empty file: '{arg}'")
        series.append({"label": label, "path": path})
    print(f"wrote {plots.percentiles(a.png, series)}")
    return 0


def _get(a):
    value = points.get(points.load_json(a.file), a.key)
    if value is None:
        return 1
    print(value if isinstance(value, str) else json.dumps(value))
    return 0


def _seconds(a):
    total = sum(units.seconds(d) for d in a.durations)
    print(math.ceil(total) if a.ceil else units.number(total, 9))
    return 0


def _answer(value):
    """Prints a lookup's answer; the exit status says whether there was one."""
    if value:
        print(value)
    return 0 if value else 1


def _emulating(a):
    return _answer(policies.emulating(policies.load(a.policies), a.family))


def _fidelity_plan(a):
    values = fidelity.read_settings(a.scenarios)
    if a.check:
        return 0
    listed = os.path.join(a.out, "policies.json")  # convoy-server --list-policies --json
    if os.path.exists(listed):
        fidelity.check_tolerance_policies(values, policies.names(policies.load(listed)))
    interpreters = fidelity.read_interpreters(a.interpreters)
    the_plan = fidelity.plan(values, interpreters, a.root, a.server_bin, a.out)
    if not the_plan["runs"]:
        raise ValueError("no run to make: no interpreter found has an emulating policy")
    print("\n".join(fidelity.write_plan(a.out, the_plan)))
    return 0


def _policy_family(a):
    return _answer(policies.family_of(policies.load(a.policies), a.policy))


def _print_timeline(result):
    lines, notes = result
    for n in notes:
        print(f"{os.environ.get('CONVOY_DATA_PROG', 'convoy-data')}: {n}", file=sys.stderr)
    print("\n".join(lines))
    return 0


def _report(problems, text=""):
    for p in problems:
        print(p, file=sys.stderr)
    if text:
        print(text)
    return 1 if problems else 0


_COMMANDS = {
    "plan": (_plan, "the points of a sweep or demo: validate, list or write them", [
        ("--out", {}), ("--sweep-file", {}), ("--set", {"action": "append", "default": []}),
        ("--note", {"action": "append", "default": []}), ("--policies", {}),
        ("--check", {"action": "store_true"}), ("--dry-run", {"action": "store_true"})]),
    "settings": (lambda a: print(sweep.settings_help()) or 0, "what a sweep file may set", []),
    "finish": (_finish, "point.json of a run that is over, and its one-line outcome", [
        ("dir", {}), ("--started", {"choices": ["0", "1"], "required": True}),
        ("--client-rc", {"default": "none"}), ("--server-rc", {"default": "none"}),
        ("--timeout", {"type": float, "default": 0}), ("--no-stats", {"action": "store_true"})]),
    "params": (_params, "DIR/params.json from KEY=VALUE pairs", [("dir", {}), ("pairs", {"nargs": "*"})]),
    "csv": (_csv, "the CSV of a plan's points", [("out", {}), ("--to", {})]),
    "summary": (lambda a: print(summary.write_plan_summary(a.out)) or 0,
                "summary.json and the table of a plan's points", [("out", {})]),
    "reference": (lambda a: print(summary.write_reference_table(a.out)) or 0,
                  "table.tsv and the table of real against emulated", [("out", {})]),
    "plot-sweep": (_plot_sweep, "latency and throughput plots of a sweep CSV",
                   [("csv", {}), ("--out", {})]),
    "plot-percentiles": (_plot_percentiles, "percentile curves of .hgrm files",
                         [("png", {}), ("series", {"nargs": "+", "metavar": "LABEL=FILE.hgrm"})]),
    "plot-demo": (lambda a: print(f"wrote {plots.demo_percentiles(a.out, a.png)}") or 0,
                  "percentile curves of a plan's points", [("out", {}), ("png", {})]),
    "get": (_get, "a value from a JSON file (KEY as a.b.c)", [("file", {}), ("key", {})]),
    "seconds": (_seconds, "the sum of durations in seconds",
                [("durations", {"nargs": "+"}), ("--ceil", {"action": "store_true"})]),
    "emulating": (_emulating, "the policy that emulates an interpreter family",
                  [("policies", {}), ("family", {})]),
    "fidelity-plan": (_fidelity_plan, "the runs of a fidelity matrix: validate or write them", [
        ("scenarios", {}), ("--interpreters", {}), ("--root", {}), ("--server-bin", {}),
        ("--out", {}), ("--check", {"action": "store_true"})]),
    "fidelity-report": (lambda a: print(fidelity.write_report(a.out)) or 0,
                        "fidelity.csv and the table of a fidelity matrix", [("out", {})]),
    "fidelity-plot": (lambda a: print(f"wrote {fidelity.plot_cdfs(a.out, a.png)}") or 0,
                      "real against emulated CDFs, a panel per scenario", [("out", {}), ("png", {})]),
    "policy-family": (_policy_family, "the interpreter family a policy is the emulation of",
                      [("policies", {}), ("policy", {})]),
    "race": (lambda a: print(race.report(a.out)) or 0,
             "race.csv and the table of a race-trace.sh run: the connection thread's lock races",
             [("out", {})]),
    "seed": (lambda a: print(seed.table(a.out, a.messages)) or 0,
             "the seed experiment's table: done in X s beside the blog's figures",
             [("out", {}), ("--messages", {"type": int, "default": 1000})]),
    "profile-step": (lambda a: print(profile.step(a.work, a.policy, a.family)) or 0,
                     "the next server run of a profile's fit, or 'done'",
                     [("work", {}), ("--policy", {"required": True}), ("--family", {"required": True})]),
    "profile-write": (lambda a: print(profile.write_profile(a.work, a.out, a.label, a.path)) or 0,
                      "the profile TOML of a finished fit",
                      [("work", {}), ("out", {}), ("--label", {"required": True}),
                       ("--path", {"required": True})]),
    "profile-describe": (lambda a: print(profile.describe(a.measured)) or 0,
                         "one line on a calibrate.py measurement", [("measured", {})]),
    "timeline": (lambda a: _print_timeline(timeline.timeline_command(
        a.trace, a.out, a.from_ms, a.to_ms, not a.no_summary)),
        "the GIL timeline of a convoy-server --trace file as PNG, and a summary line per thread", [
            ("trace", {}), ("--out", {"help": "the PNG (default: TRACE with .png for .json)"}),
            ("--from", {"dest": "from_ms", "metavar": "MS"}), ("--to", {"dest": "to_ms", "metavar": "MS"}),
            ("--no-summary", {"action": "store_true"})]),
    "timelines": (lambda a: _print_timeline(timeline.timelines_command(
        a.png, a.traces, a.from_ms, a.to_ms, not a.no_summary)),
        "several traces stacked, one panel each over spans of one length", [
            ("png", {}), ("traces", {"nargs": "+", "metavar": "TRACE"}),
            ("--from", {"dest": "from_ms", "metavar": "MS"}), ("--to", {"dest": "to_ms", "metavar": "MS"}),
            ("--no-summary", {"action": "store_true"})]),
    "apt-source": (lambda a: print("\n".join(apt.sources(a.suite)[:1])) or 0,
                   "the archive the host's apt uses for a suite", [("suite", {})]),
    "bench-round": (lambda a: print(bench.round_line(a.work, a.n)) or 0, "one floor round",
                    [("work", {}), ("n", {"type": int})]),
    "bench-floor": (lambda a: print(bench.floor_summary(a.work, a.rounds)) or 0,
                    "the floor medians", [("work", {}), ("rounds", {"type": int})]),
    "bench-pacing": (lambda a: print(bench.pacing_summary(a.file)) or 0, "the open-loop pacing",
                     [("file", {})]),
    "smoke-point": (lambda a: _report(checks.point_files(a.dir, a.server_cpus, a.client_cpus)),
                    "check a point measured in containers",
                    [("dir", {}), ("--server-cpus", {"default": ""}), ("--client-cpus", {"default": ""})]),
    "smoke-compose": (lambda a: _report(checks.compose_files(a.client, a.server, a.server_cpus,
                                                             a.client_cpus)),
                      "check the files of compose up", [
                          ("client", {}), ("server", {}), ("--server-cpus", {"default": ""}),
                          ("--client-cpus", {"default": ""})]),
    "smoke-convoy": (lambda a: _report(*checks.convoy(a.slow, a.fast)),
                     "check that one point's median is clearly above another's",
                     [("slow", {}), ("fast", {})]),
}


def parser():
    p = argparse.ArgumentParser(prog="convoy-data", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name, (_, text, arguments) in _COMMANDS.items():
        command = sub.add_parser(name, help=text, description=text)
        for flag, options in arguments:
            command.add_argument(flag, **options)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return _COMMANDS[args.command][0](args)
    except (ValueError, RuntimeError, OSError) as e:
        print(f"{os.environ.get('CONVOY_DATA_PROG', 'convoy-data')}: {e}", file=sys.stderr)
        return 2
