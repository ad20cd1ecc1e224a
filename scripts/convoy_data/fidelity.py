"""The fidelity matrix: real interpreters against the policies that emulate them, scenario by
scenario, runs interleaved so that drift of the machine hits both sides alike.

A scenario file is a shell file like a sweep file; it sets lists for the axes (cpu_threads,
think, switch_interval, size) and single values for the rest (duration, warmup, repetitions,
tolerance, reply_timeout, fib_depth). The plan is every scenario x interpreter x side (real,
emulated with the default cost model, and `fitted`, emulated with the interpreter's profile from
scripts/calibrate.sh when it has one) x repetition, repetitions outermost and the sides
alternating, written as
OUT/plan.json and OUT/todo, and per run OUT/points/ID/{params.json, server.cmd, client.args}.
The report merges the repetitions' histograms per scenario, interpreter and side and compares
them: percentiles, means, their ratio, a two-sample Kolmogorov-Smirnov distance, a verdict.

The tolerance is a number, the largest |ratio - 1| that is ok (0.25: within 25 %), optionally
followed by POLICY=NUMBER for the policies held to another one: "0.25 py2=0.5"."""

import csv
import itertools
import math
import os
import re

from . import points, sweep, units

AXES = {"cpu_threads": "1", "think": "2ms", "switch_interval": "5ms", "size": "100"}
SCALARS = {"duration": "3s", "warmup": "0.5s", "repetitions": "2", "tolerance": "0.25",
           "reply_timeout": "5s", "fib_depth": "20"}
# The families whose interpreter has a switch interval (sys.setswitchinterval); the others run
# each scenario once whatever the interval says.
_HAS_SWITCH_INTERVAL = ("CPython 3", "CPython free-threaded", "free-threaded", "PyPy")


def _size_bytes(text):
    units_of = {"": 1, "b": 1, "kib": 1024, "k": 1024, "mib": 1 << 20, "m": 1 << 20}
    raw = str(text).strip().lower()
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = raw[len(number):]
    if not number.isdigit() or unit not in units_of:
        raise ValueError(f"size '{text}' is not a number of bytes (100, 16KiB, 1MiB)")
    value = int(number) * units_of[unit]
    if not 32 <= value <= 16 << 20:
        raise ValueError(f"size '{text}' is outside 32 B..16 MiB")
    return value


def settings(raw):
    """Validated settings from {name: [values]} (a scenario file read by sweep.read_sweep_file)."""
    unknown = sorted(set(raw) - set(AXES) - set(SCALARS))
    if unknown:
        raise ValueError(f"unknown setting '{unknown[0]}' (axes: {', '.join(AXES)}; "
                         f"single values: {', '.join(SCALARS)})")
    values = {}
    for name, default in {**AXES, **SCALARS}.items():
        given = raw.get(name, default.split())
        given = given if isinstance(given, list) else str(given).split()
        if not given:
            raise ValueError(f"{name} is empty")
        if name in SCALARS and name != "tolerance" and len(given) != 1:
            raise ValueError(f"{name} takes one value, not {len(given)}")
        values[name] = given if name in AXES else " ".join(given)
    for d in values["think"] + values["switch_interval"] + [values["duration"], values["warmup"],
                                                          values["reply_timeout"]]:
        units.parse_duration_ns(d)
    for n in values["cpu_threads"] + [values["fib_depth"], values["repetitions"]]:
        if not str(n).isdigit():
            raise ValueError(f"'{n}' is not a whole number")
    if int(values["repetitions"]) < 1:
        raise ValueError("repetitions must be at least 1")
    values["size"] = [str(_size_bytes(s)) for s in values["size"]]
    tolerances(values["tolerance"])
    return values


def tolerances(text):
    """{policy: tolerance} from 'NUMBER [POLICY=NUMBER ...]'; the key '' holds the default."""
    found = {}
    for word in str(text).split():
        policy, _, number = word.rpartition("=")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"tolerance '{word}' is not a number (0.25 = within 25 %; "
                             "py2=0.5 for one policy)") from None
        if not 0 < value < 10:
            raise ValueError(f"tolerance '{word}' must be above 0 (0.25 = within 25 %)")
        if policy and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", policy):
            raise ValueError(f"tolerance: '{policy}' is not a policy name")
        if policy in found:
            raise ValueError(f"tolerance: {policy or 'the default'} is given twice")
        found[policy] = value
    if "" not in found:
        raise ValueError(f"tolerance '{text}' has no default (a plain number first: '0.25 py2=0.5')")
    return found


def check_tolerance_policies(values, policy_names):
    """Dies with ValueError when the tolerance names a policy convoy-server does not have."""
    for policy in tolerances(values["tolerance"]):
        if policy and policy not in policy_names:
            raise ValueError(f"tolerance: no policy '{policy}' (policies: {', '.join(policy_names)})")


def describe_tolerances(text):
    """'±25% (py2 ±50%)' for the table's caption."""
    found = tolerances(text)
    others = ", ".join(f"{p} ±{t:.0%}" for p, t in sorted(found.items()) if p)
    return f"±{found['']:.0%}" + (f" ({others})" if others else "")


def scenarios(values):
    """[{id, cpu_threads, think, switch_interval, size}] in file order."""
    found = []
    for cpu, think, interval, size in itertools.product(values["cpu_threads"], values["think"],
                                                        values["switch_interval"], values["size"]):
        ident = f"f{cpu}-t{think}-i{interval}-b{size}".replace(".", "_")
        found.append({"id": ident, "cpu_threads": cpu, "think": think, "switch_interval": interval,
                      "size": size})
    return found


def read_interpreters(path):
    """[{label, family, path, policy, profile, version}] from LABEL<TAB>FAMILY<TAB>PATH<TAB>POLICY
    [<TAB>PROFILE[<TAB>VERSION]] lines; PROFILE is a convoy-server config fitted to the
    interpreter, VERSION what it says it is ('Ruby 3.1.2')."""
    found = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                fields = (line.rstrip("\n").split("\t") + [""] * 5)[:6]
                label, family, exe, policy, profile, version = fields
                found.append({"label": label, "family": family, "path": exe, "policy": policy,
                              "profile": profile, "version": version})
    return found


def _version_tuple(text):
    """(3, 1, 2) from 'Ruby 3.1.2' or '3.1.2p20'; () when there is no number."""
    last = text.split()[-1] if text.split() else ""
    numbers = re.findall(r"\d+", last)
    return tuple(int(n) for n in numbers[:3])


def emulation_args(interp, scenario):
    """The emulated side's options that follow from the real interpreter: the switch interval
    for the CPythons; for PyPy the check interval its sys.setswitchinterval(x) sets, x * 2 000 000
    ticks; for a Ruby before 3.3 its GVL of 2.6-3.2 (no timer thread, one waiter keeps time)."""
    family = interp["family"]
    if family == "PyPy":
        ticks = max(1, int(units.seconds(scenario["switch_interval"]) * 2_000_000))
        return ["--pypy-check-interval", str(ticks)]
    if family == "Ruby":
        version = _version_tuple(interp.get("version", ""))
        return ["--gvl-timer", "waiter"] if version and version < (3, 3) else []
    if family in _HAS_SWITCH_INTERVAL:
        return ["--switch-interval", scenario["switch_interval"]]
    return []


def _real_cmd(root, interp, scenario, fib_depth):
    script = "echo_server.rb" if interp["family"] == "Ruby" else "echo_server.py"
    cmd = [interp["path"], os.path.join(root, "scripts", "reference", script), "--port", "0",
           "--cpu-threads", scenario["cpu_threads"], "--fib-depth", fib_depth]
    if interp["family"] in _HAS_SWITCH_INTERVAL:
        cmd += ["--switch-interval", units.number(units.seconds(scenario["switch_interval"]), 9)]
    return cmd


def _emulated_cmd(server_bin, interp, scenario, stats, profile=""):
    # Options on the command line override the profile's (CLI11 reads the config first).
    cmd = [server_bin] + (["--config", profile] if profile else []) + [
        "--port", "0", "--stats", stats, "--policy", interp["policy"],
        "--cpu-threads", scenario["cpu_threads"]]
    return cmd + emulation_args(interp, scenario)


def plan(values, interpreters, root, server_bin, out):
    """{settings, scenarios, interpreters, runs: [{id, label, params, server_cmd, client_args,
    timeout_s}]}: repetitions outermost; within one, every scenario and interpreter with its
    sides back to back (real, emulated, fitted when it has a profile), in that order in odd
    repetitions and the other way round in even ones."""
    measured = [i for i in interpreters if i["policy"]]
    all_scenarios = scenarios(values)
    reps = int(values["repetitions"])
    timeout = math.ceil(units.seconds(values["duration"]) + units.seconds(values["warmup"]) +
                        units.seconds(values["reply_timeout"]) + 30)
    runs = []
    for rep in range(1, reps + 1):
        for scenario in all_scenarios:
            for interp in measured:
                if interp["family"] not in _HAS_SWITCH_INTERVAL and \
                        scenario["switch_interval"] != values["switch_interval"][0]:
                    continue  # no interval to vary: the first one's run stands for all
                sides = ("real", "emulated") + (("fitted",) if interp.get("profile") else ())
                for side in sides if rep % 2 else reversed(sides):
                    ident = f"{scenario['id']}-{interp['label']}-{side}-r{rep}"
                    d = os.path.join(out, "points", ident)
                    stats = os.path.join(d, "server.json")
                    if side == "real":
                        server = _real_cmd(root, interp, scenario, values["fib_depth"])
                    else:
                        server = _emulated_cmd(server_bin, interp, scenario, stats,
                                               interp["profile"] if side == "fitted" else "")
                    client = ["--mode", "closed", "--connections", "1", "--size", scenario["size"],
                              "--think", scenario["think"], "--duration", values["duration"],
                              "--warmup", values["warmup"], "--timeout", values["reply_timeout"]]
                    params = {"scenario": scenario["id"], "interpreter": interp["label"],
                              "family": interp["family"], "policy": interp["policy"], "side": side,
                              "rep": rep, **{k: scenario[k] for k in AXES}}
                    label = (f"{interp['label']} {side} r{rep}: {scenario['cpu_threads']} fib, "
                             f"think {scenario['think']}, interval {scenario['switch_interval']}, "
                             f"{scenario['size']} B")
                    runs.append({"id": ident, "label": label, "params": params, "server_cmd": server,
                                 "client_args": client, "timeout_s": timeout})
    return {"settings": values, "scenarios": all_scenarios, "interpreters": measured, "runs": runs}


def write_plan(out, the_plan):
    """OUT/plan.json, per run OUT/points/ID/{params.json, server.cmd, client.args}; returns the
    todo lines 'ID<TAB>done|todo<TAB>TIMEOUT_S<TAB>SIDE<TAB>LABEL'."""
    os.makedirs(out, exist_ok=True)
    points.write_json(os.path.join(out, "plan.json"), the_plan)
    lines = []
    for run in the_plan["runs"]:
        d = os.path.join(out, "points", run["id"])
        os.makedirs(d, exist_ok=True)
        state = "done" if points.is_done(d, run["params"]) else "todo"
        points.write_json(os.path.join(d, "params.json"), run["params"])
        for name, args in (("server.cmd", run["server_cmd"]), ("client.args", run["client_args"])):
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write("".join(f"{a}\0" for a in args))
        lines.append(f"{run['id']}\t{state}\t{run['timeout_s']}\t{run['params']['side']}\t{run['label']}")
    return lines


# --- The report.

def _buckets(point):
    """[(low_us, high_us, count)] of one run's latency histogram, [] when it has none."""
    raw = points.get(point, "client.results.latency.buckets") or []
    return [(float(b[0]), float(b[1]), int(b[2])) for b in raw if len(b) >= 3 and int(b[2]) > 0]


def merged(runs):
    """One histogram from several runs: {bucket: count}, total, the exact mean in µs."""
    counts, total, weighted = {}, 0, 0.0
    for point in runs:
        for low, high, count in _buckets(point):
            counts[(low, high)] = counts.get((low, high), 0) + count
        n = points.get(point, "client.results.latency.count") or 0
        mean = points.get(point, "client.results.latency.mean_us")
        if n and mean is not None:
            total += n
            weighted += mean * n
    return {"buckets": sorted(counts.items()), "count": total,
            "mean_us": weighted / total if total else None}


def quantile(histogram, q):
    """The q-quantile (0..1) in µs of a merged histogram, interpolated inside its bucket."""
    buckets = histogram["buckets"]
    n = sum(c for _, c in buckets)
    if n == 0:
        return None
    rank, seen = q * n, 0
    for (low, high), count in buckets:
        if seen + count >= rank:
            return low + (high - low) * ((rank - seen) / count if count else 0)
        seen += count
    return buckets[-1][0][1]


def ks_distance(a, b):
    """The two-sample Kolmogorov-Smirnov statistic of two merged histograms: the largest gap
    between their CDFs, taken at every bucket edge either has."""
    na, nb = sum(c for _, c in a["buckets"]), sum(c for _, c in b["buckets"])
    if not na or not nb:
        return None
    edges = sorted({high for (_, high), _ in a["buckets"]} | {high for (_, high), _ in b["buckets"]})

    def cdf(h, n, x):
        return sum(c for (_, high), c in h["buckets"] if high <= x) / n

    return max(abs(cdf(a, na, x) - cdf(b, nb, x)) for x in edges)


COLUMNS = ("scenario", "interpreter", "policy", "cpu_threads", "think", "switch_interval", "size",
           "real_runs", "emulated_runs", "real_p50_ms", "real_p90_ms", "real_p99_ms", "real_mean_ms",
           "emulated_p50_ms", "emulated_p90_ms", "emulated_p99_ms", "emulated_mean_ms", "mean_ratio",
           "ks", "tolerance", "verdict", "fitted_runs", "fitted_p50_ms", "fitted_p90_ms", "fitted_p99_ms",
           "fitted_mean_ms", "fitted_ratio", "fitted_ks", "fitted_verdict")


def _compare(real, other, tolerance):
    """(ratio of means, KS distance, verdict) of one emulated side against the real one."""
    if not (real["mean_us"] and other["mean_us"]):
        return None, None, "failed"
    ratio = other["mean_us"] / real["mean_us"]
    ks = ks_distance(real, other)
    return (round(ratio, 3), None if ks is None else round(ks, 3),
            "ok" if abs(ratio - 1) <= tolerance else "miss")


def _ms(value):
    return None if value is None else round(value / 1000, 4)


def report_rows(out):
    """One row per scenario and interpreter measured (see COLUMNS); a side none of whose runs
    succeeded leaves its numbers empty and the verdict 'failed'."""
    the_plan = points.load_json(os.path.join(out, "plan.json"))
    if not isinstance(the_plan, dict) or "runs" not in the_plan:
        raise ValueError(f"no fidelity plan in '{out}' (plan.json is missing or broken)")
    tolerance_of = tolerances(the_plan["settings"]["tolerance"])
    groups = {}
    for run in the_plan["runs"]:
        p = run["params"]
        point = points.load_json(os.path.join(out, "points", run["id"], "point.json"))
        key = (p["scenario"], p["interpreter"])
        group = groups.setdefault(key, {"params": p, "real": [], "emulated": [], "fitted": [],
                                        "fitted_planned": False})
        group["fitted_planned"] |= p["side"] == "fitted"
        if isinstance(point, dict) and point.get("status") == "ok":
            group[p["side"]].append(point)
    rows = []
    for (scenario, interp), g in groups.items():
        p = g["params"]
        hist = {side: merged(g[side]) for side in ("real", "emulated", "fitted")}
        row = {"scenario": scenario, "interpreter": interp, "policy": p["policy"],
               **{k: p[k] for k in AXES}, "real_runs": len(g["real"]),
               "emulated_runs": len(g["emulated"]), "fitted_runs": len(g["fitted"]),
               "tolerance": tolerance_of.get(p["policy"], tolerance_of[""])}
        tolerance = row["tolerance"]
        for side, h in hist.items():
            for q, name in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
                row[f"{side}_{name}_ms"] = _ms(quantile(h, q))
            row[f"{side}_mean_ms"] = _ms(h["mean_us"])
        row["mean_ratio"], row["ks"], row["verdict"] = _compare(hist["real"], hist["emulated"],
                                                                tolerance)
        if g["fitted_planned"]:
            row["fitted_ratio"], row["fitted_ks"], row["fitted_verdict"] = _compare(
                hist["real"], hist["fitted"], tolerance)
        else:  # no profile: nothing fitted to compare
            row.update(fitted_ratio=None, fitted_ks=None, fitted_verdict="")
        rows.append(row)
    return rows, the_plan["settings"]["tolerance"]


def write_report(out):
    """OUT/fidelity.csv and the table as text, a verdict count at the end."""
    rows, tolerance = report_rows(out)
    tmp = os.path.join(out, "fidelity.csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, os.path.join(out, "fidelity.csv"))
    width = max([8] + [len(r["interpreter"]) for r in rows])
    fitted = any(r["fitted_verdict"] for r in rows)

    def cell(v, fmt=".3f"):
        return "-" if v is None else format(v, fmt)

    lines = [f"{'fib':>3} {'think':>6} {'interval':>8} {'size':>6}  {'interp':<{width}} "
             f"{'policy':<8} {'real p50':>9} {'p90':>8} {'p99':>8} {'mean':>8}  "
             f"{'emul p50':>9} {'p90':>8} {'p99':>8} {'mean':>8} {'ratio':>6} {'KS':>5}  "
             f"{'verdict':<7}" + ("  fitted mean  ratio  verdict" if fitted else "")]
    for r in rows:
        lines.append(
            f"{r['cpu_threads']:>3} {r['think']:>6} {r['switch_interval']:>8} {r['size']:>6}  "
            f"{r['interpreter']:<{width}} {r['policy']:<8} {cell(r['real_p50_ms']):>9} "
            f"{cell(r['real_p90_ms']):>8} {cell(r['real_p99_ms']):>8} {cell(r['real_mean_ms']):>8}  "
            f"{cell(r['emulated_p50_ms']):>9} {cell(r['emulated_p90_ms']):>8} "
            f"{cell(r['emulated_p99_ms']):>8} {cell(r['emulated_mean_ms']):>8} "
            f"{cell(r['mean_ratio'], '.2f'):>6} {cell(r['ks'], '.2f'):>5}  {r['verdict']:<7}"
            + (f"  {cell(r['fitted_mean_ms']):>11} {cell(r['fitted_ratio'], '.2f'):>6}  "
               f"{r['fitted_verdict'] or '-'}" if fitted else ""))
    verdicts = [r["verdict"] for r in rows]
    lines.append("")
    lines.append(f"times in ms; ratio = emulated/real mean, within {describe_tolerances(tolerance)} "
                 f"is ok; KS = the "
                 f"largest gap between the two CDFs. {verdicts.count('ok')} ok, "
                 f"{verdicts.count('miss')} missed, {verdicts.count('failed')} failed "
                 f"of {len(verdicts)}.")
    if fitted:
        fits = [r["fitted_verdict"] for r in rows if r["fitted_verdict"]]
        lines.append(f"fitted = emulated with the interpreter's profile (scripts/calibrate.sh): "
                     f"{fits.count('ok')} ok, {fits.count('miss')} missed, "
                     f"{fits.count('failed')} failed of {len(fits)}.")
    return "\n".join(lines)


def plot_cdfs(out, png):
    """One panel per scenario: the CDF of every interpreter's real (solid), emulated (dashed)
    and fitted (dotted) round trips, on a log time axis."""
    from . import plots
    the_plan = points.load_json(os.path.join(out, "plan.json"))
    by_scenario = {}
    for run in the_plan["runs"]:
        p = run["params"]
        point = points.load_json(os.path.join(out, "points", run["id"], "point.json"))
        if isinstance(point, dict) and point.get("status") == "ok":
            by_scenario.setdefault(p["scenario"], {}).setdefault((p["interpreter"], p["side"], p["policy"]),
                                                                 []).append(point)
    if not by_scenario:
        raise ValueError(f"no successful run in '{out}' to plot")
    plt = plots.pyplot()
    n = len(by_scenario)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), dpi=100, squeeze=False)
    fig.suptitle("Round-trip CDFs: real interpreter (solid) against its emulation (dashed; "
                 "fitted profile dotted)", fontsize=12)
    labels = sorted({k[0] for s in by_scenario.values() for k in s})
    colors = {label: plots.COLORS[i % len(plots.COLORS)] for i, label in enumerate(labels)}
    scenario_params = {s["id"]: s for s in the_plan["scenarios"]}
    for ax, (scenario, series) in zip(axes.flat, sorted(by_scenario.items())):
        for (interp, side, policy), runs in sorted(series.items()):
            h = merged(runs)
            total = sum(c for _, c in h["buckets"])
            if not total:
                continue
            xs, ys, seen = [], [], 0
            for (_, high), count in h["buckets"]:
                seen += count
                xs.append(high / 1000)
                ys.append(seen / total)
            name = {"real": interp, "emulated": f"{policy} ({interp})",
                    "fitted": f"{policy} fitted ({interp})"}[side]
            style = {"real": "-", "emulated": "--", "fitted": ":"}[side]
            ax.step(xs, ys, where="post", color=colors[interp], linestyle=style, linewidth=1.2,
                    label=name)
        s = scenario_params.get(scenario, {})
        ax.set_title(f"{s.get('cpu_threads')} fib, think {s.get('think')}, "
                     f"interval {s.get('switch_interval')}, {s.get('size')} B", fontsize=8)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.4)
        ax.set_xlabel("round trip (ms)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(6, len(names)), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return plots.save(plt, fig, png)


def read_settings(path):
    """Validated settings of a scenario file."""
    return settings(sweep.read_sweep_file(path))
