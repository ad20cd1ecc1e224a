"""A server profile fitted to a real interpreter: the cost model's knobs set from measurements.

scripts/calibrate.sh runs scripts/reference/calibrate.py under the interpreter (measured.json:
CPU time per fib call, instructions and CPython 2 ticks per call and per echoed message), then
convoy-server a few times with the candidate knobs, reading the fib threads' CPU time per call
from its stats, until the emulated fib call costs what the real one does. What the knobs mean:
- bytecodes-per-call: the check points one fib call passes. For CPython 2 these are ticks (only
  they count against sys.setcheckinterval, so only they set how often py2 releases); for
  CPython 3 every instruction (each may look at the eval breaker).
- bytecode-ns: the CPU time per check point, such that bytecodes-per-call of them make one fib
  call; the only knob the refinement moves.
- handler-bytecodes: the echo handler's ticks (CPython 2) or instructions (3) per message,
  scaled as bytecodes-per-call was, so that a message costs what it really does next to a call.
- socket-call-ns: the C work of one socket call (recv, sendall) outside its system call, done
  holding the lock and passing no check point. It decides a race of CPython 2.7's: a connection
  thread that holds the lock for a microsecond after recv makes a losing fib thread really go to
  sleep, and a sleeping fib thread wakes slowly, so the next messages find the lock free; with
  no such work the fib thread never sleeps and every message waits for its next release.
"""

import os
import time

from . import machine, points

#: Within this much of the real fib call's CPU time, the fit is done.
TOLERANCE = 0.05
#: At most this many server runs refine bytecode-ns.
MAX_ROUNDS = 6


def read_measured(path):
    """The measurement calibrate.py printed, checked."""
    data = points.load_json(path)
    need = ("ns_per_call", "opcodes_per_call", "ticks_per_call", "handler_opcodes",
            "handler_ticks", "socket_call_ns", "fib_depth", "method")
    if not isinstance(data, dict) or any(k not in data for k in need):
        raise ValueError(f"'{path}' is not a calibrate.py measurement")
    if not data["ns_per_call"] > 0 or not data["opcodes_per_call"] > 0:
        raise ValueError(f"'{path}' has no fib call to fit (ns_per_call, opcodes_per_call)")
    return data


def counts_ticks(family):
    """Whether the interpreter's periodic release counts ticks (CPython 2) or time (3)."""
    return family == "CPython 2"


def start(measured, policy, family):
    """The first candidate: {policy, fib-depth, bytecodes-per-call, bytecode-ns,
    handler-bytecodes, socket-call-ns}, the per-check-point cost being the real call's time
    spread evenly."""
    ticks = counts_ticks(family)
    per_call = measured["ticks_per_call"] if ticks else measured["opcodes_per_call"]
    handler = measured["handler_ticks"] if ticks else measured["handler_opcodes"]
    bytecodes = max(1, round(per_call))
    return {"policy": policy, "fib-depth": int(measured["fib_depth"]),
            "bytecodes-per-call": bytecodes,
            "bytecode-ns": max(1, round(measured["ns_per_call"] / bytecodes)),
            "handler-bytecodes": max(0, round(handler)),
            "socket-call-ns": max(0, round(measured["socket_call_ns"]))}


def handler_bytecodes(measured, family, bytecodes_per_call):
    """The handler's check points, in the proportion to a fib call's that the real handler's
    instructions (ticks, for CPython 2) bear to a real fib call's: the handler then costs what
    it really does next to fib, however many check points a call was given."""
    ticks = counts_ticks(family)
    per_call = measured["ticks_per_call"] if ticks else measured["opcodes_per_call"]
    handler = measured["handler_ticks"] if ticks else measured["handler_opcodes"]
    return max(0, round(handler * bytecodes_per_call / per_call))


def emulated_ns_per_call(stats):
    """CPU time per fib call of the fib threads in a convoy-server stats file."""
    fib = stats.get("fib") if isinstance(stats, dict) else None
    rate = fib.get("calls_per_cpu_s") if isinstance(fib, dict) else None
    if not rate:
        raise ValueError("the server's stats have no fib calls per CPU-second")
    return 1e9 / rate


def refine(knobs, measured, stats, ticks):
    """(next knobs, emulated ns per call, done). An emulated call costs a fixed part (the check
    points, the recursion) plus bytecodes-per-call x bytecode-ns: the first step scales
    bytecode-ns by real/emulated, later ones solve the line through the last two runs. Done
    within TOLERANCE. When even 1 ns per check point is too slow, or one nanosecond more or less
    per check point steps over the target, an interpreter that does not count ticks gets fewer
    check points per call (each costing more; py3 then looks at its drop request less often, by
    tens of nanoseconds); a CPython 2 keeps its ticks, and the profile says how far off it
    stays."""
    emulated = emulated_ns_per_call(stats)
    target = measured["ns_per_call"]
    history = knobs.get("history", []) + [[knobs["bytecodes-per-call"], knobs["bytecode-ns"], emulated]]
    current = {**knobs, "history": history}
    if abs(emulated / target - 1) <= TOLERANCE:
        return current, emulated, True
    bytecodes, ns = knobs["bytecodes-per-call"], knobs["bytecode-ns"]
    same = [(n, e) for b, n, e in history if b == bytecodes]
    points_ns = sorted({n for n, _ in same})
    if len(points_ns) >= 2:
        (n1, e1), (n2, e2) = same[-2], same[-1]
        slope = (e2 - e1) / (n2 - n1) if n2 != n1 else bytecodes
        slope = slope if slope > 0 else bytecodes
        wanted = n2 + (target - e2) / slope
    else:
        wanted = ns * target / emulated
    if wanted < 1 and ns == 1:
        if ticks or bytecodes == 1:
            return current, emulated, True  # the floor
        per_check_point = emulated / bytecodes  # at 1 ns each
        fewer = max(1, min(bytecodes - 1, int(target // per_check_point)))
        return {**current, "bytecodes-per-call": fewer, "bytecode-ns": 1}, emulated, False
    scaled = max(1, round(wanted))
    if scaled == ns:
        if ticks or bytecodes == 1:
            return current, emulated, True  # as close as whole nanoseconds get
        # Whole nanoseconds per check point are too coarse a step for this many check points:
        # half as many, each twice as long, halve the step.
        fewer = (bytecodes + 1) // 2
        return ({**current, "bytecodes-per-call": fewer,
                 "bytecode-ns": max(1, round(wanted * bytecodes / fewer))}, emulated, False)
    return {**current, "bytecode-ns": scaled}, emulated, False


def server_args(knobs):
    """The knobs as convoy-server options, one per line."""
    out = []
    for key in ("policy", "fib-depth", "bytecodes-per-call", "bytecode-ns", "handler-bytecodes",
                "socket-call-ns"):
        out += [f"--{key}", str(knobs[key])]
    return out


def step(work, policy, family):
    """One step of the fit in directory `work`: reads measured.json, knobs.json and the newest
    fit-N.json stats (N = 1, 2, ...) there, writes knobs.json (and fit.json once done). Returns
    'run N' followed by the server options for the next run, or 'done'."""
    measured = read_measured(os.path.join(work, "measured.json"))
    knobs_path = os.path.join(work, "knobs.json")
    rounds = 0
    while os.path.exists(os.path.join(work, f"fit-{rounds + 1}.json")):
        rounds += 1
    if rounds == 0:
        knobs = start(measured, policy, family)
        points.write_json(knobs_path, knobs)
        return "\n".join(["run 1"] + server_args(knobs))
    knobs = points.load_json(knobs_path)
    if not isinstance(knobs, dict):
        raise ValueError(f"'{knobs_path}' is missing or broken")
    stats = points.load_json(os.path.join(work, f"fit-{rounds}.json"))
    following, emulated, done = refine(knobs, measured, stats, counts_ticks(family))
    if done or rounds >= MAX_ROUNDS:
        # The run closest to the real call, which is the last one when the fit converged.
        target = measured["ns_per_call"]
        bytecodes, ns, best = min(following["history"], key=lambda h: abs(h[2] / target - 1))
        chosen = {**following, "bytecodes-per-call": bytecodes, "bytecode-ns": ns,
                  "handler-bytecodes": handler_bytecodes(measured, family, bytecodes)}
        points.write_json(os.path.join(work, "fit.json"),
                          {"knobs": chosen, "emulated_ns_per_call": best, "rounds": rounds,
                           "converged": abs(best / target - 1) <= TOLERANCE})
        return "done"
    points.write_json(knobs_path, following)
    return "\n".join([f"run {rounds + 1}"] + server_args(following))


def profile_text(measured, fit, label, exe, where):
    """The TOML of a profile, its comments saying what was measured and how close the fit is."""
    knobs = fit["knobs"]
    real, emulated = measured["ns_per_call"], fit["emulated_ns_per_call"]
    off = (emulated / real - 1) * 100
    ticks = measured.get("ticks_per_call")
    lines = [
        f"# convoy-server profile fitted to {label} ({exe}) by scripts/calibrate.sh",
        f"# on {where}.",
        f"# Measured: a fib call takes {real:.1f} ns of CPU (fib({measured['fib_depth']}) in a loop),",
        f"#   {measured['opcodes_per_call']:.2f} instructions and {ticks:.2f} CPython 2 ticks per "
        f"call; the echo handler {measured['handler_opcodes']:.1f} instructions and "
        f"{measured['handler_ticks']:.1f} ticks per message ({measured['method']}); a socket "
        f"call's C work {measured['socket_call_ns']:.0f} ns.",
        f"# Emulated with this profile: a fib call takes {emulated:.1f} ns of CPU ({off:+.1f} %"
        f"{'' if fit['converged'] else ', as close as the emulation gets on this build'}).",
        "# Load it with: convoy-server --config THIS_FILE [other options]",
        f"policy=\"{knobs['policy']}\"",
        f"fib-depth={knobs['fib-depth']}",
        f"bytecodes-per-call={knobs['bytecodes-per-call']}",
        f"bytecode-ns={knobs['bytecode-ns']}",
        f"handler-bytecodes={knobs['handler-bytecodes']}",
        f"socket-call-ns={knobs['socket-call-ns']}",
    ]
    return "\n".join(lines) + "\n"


def machine_text():
    """'2026-12-02, <CPU model>, 2 CPUs, load 0.31': where and when a profile was fitted."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = machine.read_loadavg()
    return (f"{time.strftime('%Y-%m-%d')}, {model}, {machine.cpus_online()} CPUs"
            + (f", load {load[0]:.2f}" if load else ""))


def write_profile(work, path, label, exe, where=None):
    """Writes the profile of a finished fit in `work` to `path` (temporary file, then rename);
    returns its one-line summary."""
    measured = read_measured(os.path.join(work, "measured.json"))
    fit = points.load_json(os.path.join(work, "fit.json"))
    if not isinstance(fit, dict) or "knobs" not in fit:
        raise ValueError(f"no finished fit in '{work}'")
    text = profile_text(measured, fit, label, exe, where or machine_text())
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    k = fit["knobs"]
    return (f"{label}: {k['policy']} bytecodes-per-call={k['bytecodes-per-call']} "
            f"bytecode-ns={k['bytecode-ns']} handler-bytecodes={k['handler-bytecodes']} "
            f"socket-call-ns={k['socket-call-ns']} "
            f"(fib call {measured['ns_per_call']:.1f} ns real, "
            f"{fit['emulated_ns_per_call']:.1f} ns emulated) -> {path}")


def describe(measured_path):
    """One line on what calibrate.py measured."""
    m = read_measured(measured_path)
    return (f"fib call {m['ns_per_call']:.1f} ns of CPU, {m['opcodes_per_call']:.2f} instructions, "
            f"{m['ticks_per_call']:.2f} ticks; handler {m['handler_opcodes']:.1f} instructions, "
            f"{m['handler_ticks']:.1f} ticks per message ({m['method']}); socket call "
            f"{m['socket_call_ns']:.0f} ns of C work")
