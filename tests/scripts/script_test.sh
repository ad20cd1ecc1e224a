#!/usr/bin/env bash
# script_test.sh CASE — one end-to-end check of a user-facing script. Exits non-zero with a
# message naming what was wrong. Binaries come from CONVOY_SERVER_BIN / CONVOY_CLIENT_BIN.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fixtures="$root/tests/scripts/fixtures"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
is_png() { [[ -s "$1" ]] && [[ $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }
expect_png() { is_png "$1" || fail "no PNG at $1"; }
get() { "$root/scripts/convoy-data" get "$@"; }
# csv_count FILE PYTHON_CONDITION — the rows of a CSV (as dicts named r) the condition holds for.
csv_count() {
  /usr/bin/python3 -c 'import csv, sys; print(sum(1 for r in csv.DictReader(open(sys.argv[1])) if eval(sys.argv[2])))' "$@"
}

# Stand-ins for everything that installs, builds or starts containers: each notes its name in
# $tmp/calls and fails. A script run with them on PATH must not have called any.
fake_tools() {
  mkdir -p "$tmp/fake"
  local t
  for t in apt-get cmake docker dockerd docker-compose debootstrap sudo sockperf; do
    printf '#!/bin/sh\necho %s >>"%s/calls"\nexit 1\n' "$t" "$tmp" >"$tmp/fake/$t"
    chmod +x "$tmp/fake/$t"
  done
  export PATH="$tmp/fake:$PATH" DOCKER_CLI="$tmp/fake/docker"
}
# has_trace SERVER_BIN — true when the server lists --trace in its --help.
has_trace() { "$1" --help 2>/dev/null | grep -qE -- '(^|[[:space:],])--trace([[:space:]=,]|$)'; }
# sweep FILE LOG [OPTION...] — sweep.sh on FILE into $tmp/out, its output in LOG; fails the test
# when it fails.
sweep() {
  local file=$1 log=$2
  "$root/scripts/sweep.sh" "$file" --out "$tmp/out" --no-build "${@:3}" >"$log" 2>&1 ||
    fail "sweep $(basename "$file") ${*:3} failed: $(cat "$log")"
}
expect_no_calls() { [[ ! -s "$tmp/calls" ]] || fail "$1 ran $(sort -u "$tmp/calls" | tr '\n' ' ')"; }

# descendants PID — the processes below PID, from /proc (parent PIDs after the command name).
descendants() {
  local f stat pid ppid found=("$1") i=0
  declare -A parent=()
  for f in /proc/[0-9]*/stat; do
    stat=$(cat "$f" 2>/dev/null) || continue
    pid=${stat%% *} stat=${stat##*) } ppid=$(cut -d' ' -f2 <<<"$stat")
    parent[$pid]=$ppid
  done
  while ((i < ${#found[@]})); do
    for pid in "${!parent[@]}"; do [[ "${parent[$pid]}" != "${found[i]}" ]] || found+=("$pid"); done
    i=$((i + 1))
  done
  echo "${found[@]:1}"
}
# wait_for FILE PATTERN SECONDS — until FILE has a line matching PATTERN.
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no '$2' in $1 after $3 s"
}
# interrupt LOG SIGNAL READY_FILE CMD... — starts CMD, sends SIGNAL once READY_FILE shows the
# client started, and checks it exits with 128 + the signal's number leaving nothing running.
interrupt() {
  local log=$1 sig=$2 ready=$3 pid children rc=0 i n
  shift 3
  set -m # a job of its own, with INT not ignored as it is for background jobs without job control
  "$@" >"$log" 2>&1 &
  pid=$!
  set +m
  wait_for "$ready" '^listening ' 20
  sleep 0.5
  children=$(descendants "$pid")
  [[ -n "$children" ]] || fail "$1 started nothing"
  kill -"$sig" "$pid"
  for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  # shellcheck disable=SC2086 # a list of PIDs
  kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid" $children; fail "$1 still runs 20 s after SIG$sig"; }
  wait "$pid" || rc=$?
  n=$(kill -l "$sig")
  ((rc == 128 + n)) || fail "$1 exited $rc after SIG$sig, not $((128 + n)): $(cat "$log")"
  local left=() f
  for pid in $children; do [[ ! -e /proc/$pid ]] || left+=("$pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"); done
  # Whatever runs outside the process tree (a container) names this test's directory.
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/} pid=${pid%/cmdline}
    if [[ "$pid" != "$$" ]] && tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$tmp/"; then
      left+=("$pid $(tr '\0' ' ' 2>/dev/null <"$f")") children+=" $pid"
    fi
  done
  if ((${#left[@]})); then
    # A leader takes its group along (a stand-in container is a session of its own).
    for pid in $children; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
    fail "$1 left $(printf '[%s] ' "${left[@]}")after SIG$sig"
  fi
}

case "${1:?case}" in
  plot-fixture)
    "$root/scripts/plot.sh" "$fixtures/sweep.csv" --out "$tmp" >"$tmp/log"
    expect_png "$tmp/latency-vs-cpu-threads.png"
    expect_png "$tmp/fib-vs-cpu-threads.png"
    # One axis varied in the fixture, so there is no switch-interval plot.
    [[ ! -e "$tmp/latency-vs-switch-interval.png" ]] || fail "plotted an axis that did not vary"
    ;;
  plot-percentiles)
    "$root/scripts/plot.sh" --percentiles "$tmp/p.png" "none=$fixtures/demo.hgrm" "py3=$fixtures/py3.hgrm"
    expect_png "$tmp/p.png"
    ;;
  plot-bad-input)
    rc=0
    "$root/scripts/plot.sh" "$tmp/missing.csv" 2>"$tmp/err" || rc=$?
    [[ $rc -ne 0 ]] || fail "plot.sh accepted a missing CSV"
    grep -q "no such CSV file" "$tmp/err" || fail "unclear message: $(cat "$tmp/err")"
    echo "x,y" >"$tmp/bad.csv"
    rc=0
    "$root/scripts/plot.sh" "$tmp/bad.csv" 2>"$tmp/err" || rc=$?
    if ((rc == 0)) || ! grep -q "not a sweep CSV" "$tmp/err"; then fail "accepted a CSV that is not a sweep's"; fi
    ;;
  sweep-tiny | sweep-resume)
    cat >"$tmp/tiny.sh" <<'SWEEP'
# Two points, one second each: the smallest sweep that has something to compare.
policies="none py3"
cpu_threads="1"
duration="1s"
warmup="0.2s"
SWEEP
    sweep "$tmp/tiny.sh" "$tmp/log"
    csv="$tmp/out/sweep.csv"
    for column in point policy cpu_threads switch_interval_us check_interval size mode think_us rep status \
      p50_us p99_us p999_us max_us count fib_calls_per_s load_1m error; do
      head -n 1 "$csv" | tr ',' '\n' | grep -qx "$column" || fail "no column $column: $(head -n 1 "$csv")"
    done
    [[ $(csv_count "$csv" True) -eq 2 ]] || fail "expected 2 rows: $(cat "$csv")"
    [[ $(csv_count "$csv" 'r["status"] == "ok" and float(r["p50_us"]) > 0') -eq 2 ]] || fail "a point failed: $(cat "$csv")"
    [[ $(csv_count "$csv" 'r["policy"] == "none" and r["switch_interval_us"] == "-"') -eq 1 ]] ||
      fail "a knob of py3 shown for none: $(cat "$csv")"
    [[ $(csv_count "$csv" 'r["policy"] == "py3" and r["switch_interval_us"] == "5000"') -eq 1 ]] ||
      fail "py3's switch interval not reported: $(cat "$csv")"
    grep -q '^\[2/2\]' "$tmp/log" || fail "no progress line per point: $(cat "$tmp/log")"
    expect_png "$tmp/out/latency-vs-cpu-threads.png"
    if [[ "$1" == sweep-resume ]]; then
      # A rerun skips what is done; a failed point is measured again.
      /usr/bin/python3 -c 'import json, sys; p = json.load(open(sys.argv[1])); p.update(status="failed", error="made up"); json.dump(p, open(sys.argv[1], "w"))' \
        "$tmp/out/points/none/point.json"
      sweep "$tmp/tiny.sh" "$tmp/log2" --no-plot
      grep -q '^\[2/2\] py3: done before, skipped' "$tmp/log2" || fail "the done point was not skipped: $(cat "$tmp/log2")"
      grep -q '^\[1/2\] none: p50' "$tmp/log2" || fail "the failed point was not measured again: $(cat "$tmp/log2")"
      [[ $(csv_count "$csv" 'r["status"] == "ok"') -eq 2 ]] || fail "resume lost rows: $(cat "$csv")"
      # Other settings are other points: none is measured again.
      sweep "$tmp/tiny.sh" "$tmp/log3" --no-plot --duration=0.5s
      ! grep -q 'done before' "$tmp/log3" || fail "points of another duration were skipped: $(cat "$tmp/log3")"
    fi
    ;;
  demo-quick)
    "$root/scripts/demo.sh" --quick --no-build --no-install --out "$tmp/demo" >"$tmp/log" 2>&1 ||
      fail "demo failed: $(cat "$tmp/log")"
    for p in none py2 py3; do
      grep -q "^$p " "$tmp/log" || fail "no table row for $p: $(cat "$tmp/log")"
    done
    for i in 0 1 2; do
      [[ $(get "$tmp/demo/summary.json" "points.$i.status") == ok ]] || fail "point $i not ok in summary.json"
    done
    [[ $(get "$tmp/demo/summary.json" points.2.policy) == py3 ]] || fail "summary.json: no py3"
    grep -q 'p50 ms' "$tmp/log" || fail "no table header"
    expect_png "$tmp/demo/latency-percentiles.png"
    if has_trace "$CONVOY_SERVER_BIN"; then
      for p in none py2 py3; do expect_png "$tmp/demo/timeline-$p.png"; done
      expect_png "$tmp/demo/timelines.png"
    else
      grep -qx "timeline: this convoy-server has no --trace; skipped" "$tmp/log" ||
        fail "no line saying the timeline was skipped: $(cat "$tmp/log")"
      ! ls "$tmp"/demo/trace-* 2>/dev/null || fail "trace files without --trace"
    fi
    ;;
  demo-timeline)
    # Against a server that traces (a stand-in, whatever this build can): the trace options per
    # point, a timeline per policy, py2 above py3 in timelines.png; --no-timeline asks for none.
    export REAL_SERVER_BIN=$CONVOY_SERVER_BIN CONVOY_SERVER_BIN="$fixtures/fake-trace-server"
    "$root/scripts/demo.sh" --quick --no-build --no-install --policies py3,py2 --out "$tmp/demo" >"$tmp/log" 2>&1 ||
      fail "demo failed: $(cat "$tmp/log")"
    for p in py2 py3; do
      [[ $(paste -sd' ' "$tmp/demo/trace-$p.json.args") == "--trace $tmp/demo/trace-$p.json --trace-after 0.4s --trace-for 30ms --trace-buffer 65536" ]] ||
        fail "$p: not the trace options: $(cat "$tmp/demo/trace-$p.json.args")"
      expect_png "$tmp/demo/timeline-$p.png"
      [[ $(grep -cE '^(main|io-1|fib-1) +holds ' "$tmp/demo/timeline-$p.txt") == 3 && $(grep -c . "$tmp/demo/timeline-$p.txt") == 3 ]] ||
        fail "not a summary line per thread of $p: $(cat "$tmp/demo/timeline-$p.txt")"
      grep -qx "timeline: $tmp/demo/timeline-$p.png" "$tmp/log" || fail "timeline-$p.png not named: $(cat "$tmp/log")"
    done
    expect_png "$tmp/demo/timelines.png"
    ! grep -q 'no --trace' "$tmp/log" || fail "said it skipped the timeline: $(cat "$tmp/log")"
    "$root/scripts/demo.sh" --quick --no-build --no-install --policies py3 --no-timeline --out "$tmp/plain" >"$tmp/log" 2>&1 ||
      fail "demo --no-timeline failed: $(cat "$tmp/log")"
    ! grep -q -- --trace "$tmp/plain/points/py3/server.args" || fail "--no-timeline passed --trace"
    ! ls "$tmp"/plain/trace-* "$tmp"/plain/timeline* 2>/dev/null || fail "--no-timeline made a trace or a picture"
    ! grep -q '^timeline' "$tmp/log" || fail "--no-timeline spoke of a timeline: $(cat "$tmp/log")"
    ;;
  timeline-fixture)
    # A hand-made py3 trace: the PNG beside it, a summary line per thread, a window, the stack.
    cp "$fixtures/trace-py3.json" "$tmp/trace-py3.json"
    "$root/scripts/timeline.sh" "$tmp/trace-py3.json" >"$tmp/log" 2>"$tmp/err" ||
      fail "timeline.sh failed: $(cat "$tmp/log" "$tmp/err")"
    expect_png "$tmp/trace-py3.png"
    [[ ! -s "$tmp/err" ]] || fail "notes for a complete trace: $(cat "$tmp/err")"
    grep -qE '^io-1 +holds +0\.5% +waits +78\.3% +syscalls +21\.2% +4 waits, longest 5 ms$' "$tmp/log" ||
      fail "no summary line for io-1: $(cat "$tmp/log")"
    [[ $(grep -cE '^(main|io-1|fib-1) ' "$tmp/log") == 3 ]] || fail "not a line per thread: $(cat "$tmp/log")"
    "$root/scripts/timeline.sh" "$tmp/trace-py3.json" --from=705 --to 706 --out "$tmp/w.png" >"$tmp/log" ||
      fail "timeline.sh with a window failed"
    expect_png "$tmp/w.png"
    grep -qE '^io-1 +holds +3\.0% +waits +52\.0% ' "$tmp/log" || fail "the window was not applied: $(cat "$tmp/log")"
    "$root/scripts/timeline.sh" "$tmp/trace-py3.json" "$fixtures/trace-py3.json" --out "$tmp/both.png" \
      --from 700 --to 712 --no-summary >"$tmp/log" || fail "the stacked timelines failed"
    expect_png "$tmp/both.png"
    [[ $(cat "$tmp/log") == "wrote $tmp/both.png" ]] || fail "--no-summary printed: $(cat "$tmp/log")"
    ! ls "$tmp"/*.tmp* 2>/dev/null || fail "a temporary file was left"
    ;;
  reference-python3)
    "$root/scripts/reference.sh" --interpreter python3=/usr/bin/python3 --duration 1s --no-build \
      --out "$tmp/ref" >"$tmp/log" 2>&1 ||
      fail "reference.sh failed: $(cat "$tmp/log")"
    row=$(grep '^python3' "$tmp/ref/table.tsv" || true)
    [[ -n "$row" ]] || fail "no python3 row: $(cat "$tmp/log")"
    IFS=$'\t' read -r -a cells <<<"$row"
    [[ "${cells[2]}" =~ ^[0-9.]+$ && "${cells[6]}" =~ ^[0-9.]+$ ]] || fail "incomplete row: $row"
    [[ -n "${cells[5]}" && "${cells[5]}" != "(none)" ]] || fail "no emulating policy for python3: $row"
    ;;
  reference-discovery)
    # Interpreters under pyenv, asdf, uv and conda are found; shims and ones that do not run
    # are not measured; two paths to one file count once; a version label picks one.
    home="$tmp/home" py=/usr/bin/python3
    wrapper() { mkdir -p "$(dirname "$1")"; printf '#!/bin/sh\nexec %s "$@"\n' "$2" >"$1"; chmod +x "$1"; }
    wrapper "$home/.pyenv/versions/3.99.0/bin/python" "$py"
    wrapper "$home/.pyenv/versions/3.96.0/bin/python" "$py"
    wrapper "$home/.asdf/installs/python/3.98.0/bin/python" "$py"
    wrapper "$home/.local/share/uv/python/cpython-3.97.0-linux/bin/python3" "$py"
    wrapper "$home/miniconda3/envs/lab/bin/python" "$py"
    mkdir -p "$home/.pyenv/versions/2.0.broken/bin" "$home/.pyenv/shims" "$home/bin"
    printf '#!/bin/sh\necho "pyenv: version not installed" >&2\nexit 127\n' >"$home/.pyenv/versions/2.0.broken/bin/python"
    cp "$home/.pyenv/versions/2.0.broken/bin/python" "$home/.pyenv/shims/python3"
    chmod +x "$home/.pyenv/versions/2.0.broken/bin/python" "$home/.pyenv/shims/python3"
    ln -s "$home/.pyenv/versions/3.99.0/bin/python" "$home/bin/python3"
    env -u PYENV_ROOT -u CONDA_PREFIX -u UV_PYTHON_INSTALL_DIR -u ASDF_DATA_DIR -u XDG_DATA_HOME \
      HOME="$home" PATH="$home/.pyenv/shims:$home/bin:/usr/bin:/bin" \
      "$root/scripts/reference.sh" --list --no-build --interpreters python >"$tmp/list" 2>"$tmp/err" ||
      fail "reference.sh --list failed: $(cat "$tmp/err")"
    for dir in bin/python3 .pyenv/versions/3.96.0/bin/python .asdf/installs/python/3.98.0/bin/python \
      .local/share/uv/python/cpython-3.97.0-linux/bin/python3 miniconda3/envs/lab/bin/python; do
      grep -qF "$home/$dir" "$tmp/list" || fail "$dir not found: $(cat "$tmp/list" "$tmp/err")"
    done
    # Each wraps /usr/bin/python3: one version, six paths, six labels told apart.
    [[ $(grep -c "^python$($py -c 'import platform; print(platform.python_version())')"'\(-[0-9]\)\?'$'\t''CPython' "$tmp/list") == 6 ]] ||
      fail "not six labelled rows: $(cat "$tmp/list")"
    # bin/python3 is a link to pyenv's 3.99.0: one file, listed once, under the first path found.
    ! grep -q "shims\|3.99.0" "$tmp/list" || fail "a shim or a second path to one file was listed: $(cat "$tmp/list")"
    grep -q "2.0.broken/bin/python does not run (pyenv: version not installed), skipped" "$tmp/err" ||
      fail "no note about the interpreter that does not run: $(cat "$tmp/err")"
    awk -F'\t' 'NR > 1 && $4 != "py3" { bad = 1 } END { exit bad }' "$tmp/list" ||
      fail "a CPython 3 not emulated by py3: $(cat "$tmp/list")"
    # --interpreter alone measures just that one, under its label.
    "$root/scripts/reference.sh" --list --no-build --interpreter mine="$py" >"$tmp/one" 2>&1 ||
      fail "--interpreter failed: $(cat "$tmp/one")"
    [[ $(tail -n +2 "$tmp/one" | cut -f1) == mine ]] || fail "not just 'mine': $(cat "$tmp/one")"
    ;;
  reference-ruby-pypy)
    # Ruby and PyPy are paired with the policies whose `emulates` names them; a Ruby before 3.3
    # with ruby's 2.6-3.2 variant. Stand-ins answer the probe as the real ones would.
    fake() { mkdir -p "$(dirname "$1")"; printf '#!/bin/sh\nprintf "%s\\n"\n' "$2" >"$1"; chmod +x "$1"; }
    fake "$tmp/r31/bin/ruby" 'Ruby\truby 3.1.2\truby3.1.2'
    fake "$tmp/r34/bin/ruby" 'Ruby\truby 3.4.1\truby3.4.1'
    fake "$tmp/pp/bin/pypy3" 'PyPy\tPyPy 7.3.11 (Python 3.9.16)\tpypy3.9-7.3.11'
    "$root/scripts/reference.sh" --list --no-build --interpreter r31="$tmp/r31/bin/ruby" \
      --interpreter r34="$tmp/r34/bin/ruby" --interpreter pp="$tmp/pp/bin/pypy3" >"$tmp/list" 2>&1 ||
      fail "reference.sh --list failed: $(cat "$tmp/list")"
    [[ $(awk -F'\t' 'NR > 1 { printf "%s=%s ", $1, $4 }' "$tmp/list") == "r31=ruby:waiter r34=ruby pp=pypy " ]] ||
      fail "wrong pairing: $(cat "$tmp/list")"
    ;;
  seed-experiment)
    # The blog's experiment, small: a done-in row per emulated policy and per real Python.
    "$root/scripts/seed-experiment.sh" --messages 60 --policies py2,py3 --interpreters "" \
      --interpreter python3=/usr/bin/python3 --no-build --out "$tmp/seed" >"$tmp/log" 2>&1 ||
      fail "seed-experiment.sh failed: $(cat "$tmp/log")"
    for name in py2 py3 python3; do
      grep -qE "^$name +(emulated|real) +[0-9]+\.[0-9]+ s " "$tmp/seed/table.txt" ||
        fail "no done-in row for $name: $(cat "$tmp/log")"
    done
    grep -qE '^py3 .* 10\.14 s$' "$tmp/seed/table.txt" || fail "py3 not beside the blog's 10.14 s: $(cat "$tmp/log")"
    [[ $(get "$tmp/seed/points/emulated-py3/point.json" client.results.requests.completed) == 60 ]] ||
      fail "py3 did not answer all 60 messages"
    grep -q "Why these are not the blog's numbers" "$tmp/seed/table.txt" || fail "no explanation"
    ;;
  fidelity-tiny)
    # Two scenarios, two repetitions, one interpreter with a profile: interleaved runs (real,
    # emulated, fitted, then the other way round), a row per scenario with a verdict for the
    # default model and for the profile, the CSV, the CDF plot; a rerun into the same directory
    # measures nothing again.
    printf 'think="0ms 2ms"\nduration="1s"\nwarmup="0.2s"\nrepetitions="2"\n' >"$tmp/scenarios.sh"
    mkdir -p "$tmp/profiles"
    printf 'policy="py3"\nbytecodes-per-call=4\nbytecode-ns=20\nhandler-bytecodes=8\n' >"$tmp/profiles/python3.toml"
    "$root/scripts/fidelity.sh" "$tmp/scenarios.sh" --interpreter python3=/usr/bin/python3 --no-build \
      --profiles "$tmp/profiles" --out "$tmp/fid" >"$tmp/log" 2>&1 || fail "fidelity.sh failed: $(cat "$tmp/log")"
    grep -q '^\[12/12\] (about .* left) python3 ' "$tmp/log" || fail "no progress line with the time left: $(cat "$tmp/log")"
    sides=$(grep -o 'python3 \(real\|emulated\|fitted\) r[12]' "$tmp/log" | awk '{print substr($2, 1, 1) $3}' | paste -sd' ')
    [[ "$sides" == "rr1 er1 fr1 rr1 er1 fr1 fr2 er2 rr2 fr2 er2 rr2" ]] || fail "runs not interleaved: $sides"
    [[ $(csv_count "$tmp/fid/fidelity.csv" 'r["verdict"] in ("ok", "miss") and float(r["mean_ratio"]) > 0') == 2 ]] ||
      fail "not two rows with a verdict: $(cat "$tmp/fid/fidelity.csv")"
    [[ $(csv_count "$tmp/fid/fidelity.csv" 'r["fitted_verdict"] in ("ok", "miss") and float(r["fitted_ratio"]) > 0') == 2 ]] ||
      fail "not two rows with a fitted verdict: $(cat "$tmp/fid/fidelity.csv")"
    grep -q -- "--config $(readlink -f "$tmp/profiles/python3.toml")" <(tr '\0' ' ' <"$(ls -d "$tmp"/fid/points/*fitted-r1 | head -n 1)/server.cmd") ||
      fail "the fitted side does not load the profile"
    grep -q "of 2\.$" "$tmp/fid/table.txt" || fail "no verdict count: $(cat "$tmp/fid/table.txt")"
    grep -q "^fitted = .* of 2\.$" "$tmp/fid/table.txt" || fail "no fitted verdict count: $(cat "$tmp/fid/table.txt")"
    expect_png "$tmp/fid/fidelity.png"
    [[ -n "$(get "$(ls "$tmp"/fid/points/*emulated-r1/point.json | head -n 1)" client.context.cpu_model)" ]] ||
      fail "the CPU model is not recorded"
    "$root/scripts/fidelity.sh" "$tmp/scenarios.sh" --interpreter python3=/usr/bin/python3 --no-build \
      --profiles "$tmp/profiles" --no-plot --out "$tmp/fid" >"$tmp/log2" 2>&1 || fail "the rerun failed: $(cat "$tmp/log2")"
    [[ $(grep -c 'done before, skipped' "$tmp/log2") == 12 ]] || fail "the rerun measured again: $(cat "$tmp/log2")"
    printf 'policy="py3"\nno-such-knob=1\n' >"$tmp/profiles/python3.toml"
    if "$root/scripts/fidelity.sh" "$tmp/scenarios.sh" --interpreter python3=/usr/bin/python3 --no-build \
      --profiles "$tmp/profiles" --out "$tmp/fid2" >"$tmp/log3" 2>&1; then
      fail "a profile the server cannot load was accepted"
    fi
    grep -q "does not load the profile" "$tmp/log3" || fail "no message on the bad profile: $(cat "$tmp/log3")"
    ;;
  race-trace)
    # The kernel's view of the lock races, for py3 and Debian's Python 3: both traced, a row
    # each with counts, the CSV, and no tracing instance left behind. Needs root and tracefs.
    if [[ $(id -u) -ne 0 ]]; then echo "SKIP: race-trace.sh needs root"; exit 77; fi
    rc=0
    "$root/scripts/race-trace.sh" --interpreters "" --interpreter python3=/usr/bin/python3 --trace 0.5s \
      --no-build --out "$tmp/race" >"$tmp/log" 2>&1 || rc=$?
    if ((rc != 0)) && grep -q "no tracefs\|no trace event" "$tmp/log"; then
      echo "SKIP: this kernel cannot be traced: $(cat "$tmp/log")"
      exit 77
    fi
    ((rc == 0)) || fail "race-trace.sh failed: $(cat "$tmp/log")"
    for name in py3 python3; do
      grep -qE "^$name +(emulated|real) +[1-9][0-9]* +[0-9]+ +[0-9]+ +[0-9]+ " "$tmp/race/table.txt" ||
        fail "no row with counts for $name: $(cat "$tmp/log")"
    done
    grep -q '^machine: .*CPUs' "$tmp/race/table.txt" || fail "the machine is not recorded: $(cat "$tmp/race/table.txt")"
    [[ $(csv_count "$tmp/race/race.csv" 'int(r["sends"]) > 0 and not r["error"]') == 2 ]] ||
      fail "not two analysed rows: $(cat "$tmp/race/race.csv")"
    # py2: the semaphore's table, for convoy-server alone, loading a config first.
    printf 'check-interval=100\n' >"$tmp/py2.toml"
    "$root/scripts/race-trace.sh" --policy py2 --interpreters "" --server-config "$tmp/py2.toml" \
      --think 0 --trace 0.3s --no-build --out "$tmp/race2" >"$tmp/log2" 2>&1 ||
      fail "race-trace.sh --policy py2 failed: $(cat "$tmp/log2")"
    grep -qE "^py2 +emulated +[1-9][0-9]* +[0-9]+% " "$tmp/race2/table.txt" ||
      fail "no py2 row with counts: $(cat "$tmp/log2")"
    [[ $(csv_count "$tmp/race2/race.csv" 'int(r["messages"]) > 0 and not r["error"]') == 1 ]] ||
      fail "not one analysed py2 row: $(cat "$tmp/race2/race.csv")"
    ! ls -d /sys/kernel/tracing/instances/convoy-race-* >/dev/null 2>&1 || fail "a tracing instance was left behind"
    ;;
  calibrate)
    # A profile fitted to Debian's Python 3: measured, refined against the server, written,
    # loadable; the measurement says what it counted.
    "$root/scripts/calibrate.sh" --interpreter python3=/usr/bin/python3 --no-build --seconds 0.3 \
      --profiles "$tmp/profiles" >"$tmp/log" 2>&1 || fail "calibrate.sh failed: $(cat "$tmp/log")"
    profile="$tmp/profiles/python3.toml"
    [[ -f "$profile" ]] || fail "no profile written: $(cat "$tmp/log")"
    grep -q '^python3: emulating, round 1: --policy py3 ' "$tmp/log" || fail "no emulated round: $(cat "$tmp/log")"
    grep -q '(opcode tracing)' "$tmp/log" || fail "Python 3.11 is not counted by opcode tracing: $(cat "$tmp/log")"
    "$CONVOY_SERVER_BIN" --config "$profile" --print-config >"$tmp/printed" 2>&1 || fail "the profile does not load: $(cat "$tmp/printed")"
    grep -q '^policy="py3"' "$tmp/printed" || fail "the profile is not for py3: $(cat "$profile")"
    for key in bytecodes-per-call bytecode-ns handler-bytecodes; do
      value=$(sed -n "s/^$key=//p" "$profile")
      [[ "$value" =~ ^[0-9]+$ ]] || fail "$key is not a number in the profile: $(cat "$profile")"
      grep -qx "$key=$value" "$tmp/printed" || fail "$key=$value is not what the server loaded"
    done
    grep -q '^# Measured: a fib call takes [0-9.]* ns of CPU' "$profile" || fail "the profile does not say what was measured"
    [[ -z "$(ls -A "$tmp/profiles" | grep -v '^python3.toml$')" ]] || fail "temporary files left: $(ls -A "$tmp/profiles")"
    if "$root/scripts/calibrate.sh" --no-build >"$tmp/out" 2>&1; then fail "calibrate.sh without an interpreter succeeded"; fi
    grep -q "which interpreters" "$tmp/out" || fail "no message without an interpreter: $(cat "$tmp/out")"
    ;;
  help)
    # --help has no side effects: nothing installed, built or started, no results directory.
    fake_tools
    before=$(ls -A "$root/results" 2>/dev/null || true)
    for s in demo.sh docker-demo.sh sweep.sh reference.sh seed-experiment.sh fidelity.sh calibrate.sh plot.sh \
      timeline.sh race-trace.sh bench-client.sh docker-smoke.sh install-deps.sh test.sh convoy-data; do
      "$root/scripts/$s" --help >"$tmp/out" 2>&1 || fail "$s --help failed: $(cat "$tmp/out")"
      grep -qiE 'usage|scripts/' "$tmp/out" || fail "$s --help printed no usage: $(cat "$tmp/out")"
      expect_no_calls "$s --help"
    done
    [[ "$(ls -A "$root/results" 2>/dev/null || true)" == "$before" ]] || fail "--help made a results directory"
    ;;
  bad-options)
    # Every bad option is one line and exit 2, before anything is installed, built or started.
    fake_tools
    printf 'modes="half-open"\n' >"$tmp/bad-sweep.sh"
    printf 'policies="none nosuch"\n' >"$tmp/bad-policy.sh"
    printf '{"points": []}\n' >"$tmp/not-a-trace.json"
    while IFS='|' read -r message cmd; do
      rc=0
      eval "$cmd" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
      ((rc == 2)) || fail "$cmd: exit $rc, not 2: $(cat "$tmp/out" "$tmp/err")"
      [[ $(grep -c . "$tmp/err") -eq 1 ]] || fail "$cmd: not one line: $(cat "$tmp/err")"
      grep -qF -- "$message" "$tmp/err" || fail "$cmd: no '$message' in: $(cat "$tmp/err")"
      expect_no_calls "$cmd"
    done <<CASES
is not a duration|$root/scripts/demo.sh --duration=1
is not a duration|$root/scripts/demo.sh --think 5
--duration must be more than zero|$root/scripts/demo.sh --duration 0
--duration must be more than zero|$root/scripts/sweep.sh $root/configs/sweeps/cpu-threads.sh --duration=0ms
unknown option '--frob'|$root/scripts/demo.sh --frob
is not a CPU list|$root/scripts/demo.sh --server-cpus=x
--cpu-threads must be a whole number|$root/scripts/demo.sh --cpu-threads=-1
--duration needs a value|$root/scripts/demo.sh --duration
unknown policy 'bogus'|$root/scripts/demo.sh --policies=none,bogus
unknown policy 'bogus'|$root/scripts/docker-demo.sh --policies bogus
is not a duration|$root/scripts/docker-demo.sh --duration 1
go with --docker|$root/scripts/demo.sh --image=x
is not a duration|$root/scripts/sweep.sh $root/configs/sweeps/cpu-threads.sh --duration=1
no such sweep file|$root/scripts/sweep.sh $tmp/missing.sh
modes: 'half-open' is not one of closed, open|$root/scripts/sweep.sh $tmp/bad-sweep.sh
unknown policy 'nosuch'|$root/scripts/sweep.sh $tmp/bad-policy.sh
unknown interpreter 'perl'|$root/scripts/reference.sh --interpreters=python3,perl
needs LABEL=PATH|$root/scripts/reference.sh --interpreter /usr/bin/python3
is not an executable file|$root/scripts/reference.sh --interpreter=x=/nonexistent/python
is not a duration|$root/scripts/reference.sh --duration=1
--messages must be at least 1|$root/scripts/seed-experiment.sh --messages 0
no such scenario file|$root/scripts/fidelity.sh /nonexistent/scenarios.sh
unknown setting 'thinks'|$root/scripts/fidelity.sh $fixtures/bad-scenarios.sh
unknown interpreter 'perl'|$root/scripts/fidelity.sh --interpreters perl
is not a directory|$root/scripts/fidelity.sh --profiles /nonexistent/profiles
which interpreters|$root/scripts/calibrate.sh
--seconds must be a number|$root/scripts/calibrate.sh python3 --seconds=0
unknown interpreter 'perl'|$root/scripts/calibrate.sh perl
unknown policy 'bogus'|$root/scripts/seed-experiment.sh --policies py3,bogus
unknown interpreter 'perl'|$root/scripts/seed-experiment.sh --interpreters perl
must be a positive whole number|$root/scripts/bench-client.sh abc
must be a positive whole number|$root/scripts/bench-client.sh --rounds=0
unknown option '--frob'|$root/scripts/docker-smoke.sh --frob
is not a duration|SMOKE_DURATION=2 $root/scripts/docker-smoke.sh
unknown option '--frob'|$root/scripts/plot.sh --frob
unknown option '--frob'|$root/scripts/timeline.sh --frob
is not a number of milliseconds|$root/scripts/timeline.sh $fixtures/trace-py3.json --from 5ms
--to needs a value|$root/scripts/timeline.sh $fixtures/trace-py3.json --to
must be before --to|$root/scripts/timeline.sh $fixtures/trace-py3.json --from 706 --to 705
is outside the trace|$root/scripts/timeline.sh $fixtures/trace-py3.json --from 0 --to 5
no such trace file|$root/scripts/timeline.sh $tmp/missing.json
is not JSON|$root/scripts/timeline.sh $fixtures/sweep.csv
has no traceEvents|$root/scripts/timeline.sh $tmp/not-a-trace.json --out $tmp/x.png
several traces need --out|$root/scripts/timeline.sh $fixtures/trace-py3.json $fixtures/trace-py3.json
is not a duration|$root/scripts/race-trace.sh --think 5
--trace must be more than zero|$root/scripts/race-trace.sh --trace=0s
--trace must be 10s at most|$root/scripts/race-trace.sh --trace 11s
--cpu-threads must be at least 1|$root/scripts/race-trace.sh --cpu-threads 0
--size must be at least 32|$root/scripts/race-trace.sh --size=8
--policy must be py3 or py2|$root/scripts/race-trace.sh --policy py4
is not a readable file|$root/scripts/race-trace.sh --server-config /nonexistent/profile.toml
unknown interpreter 'perl'|$root/scripts/race-trace.sh --interpreters perl
nothing to trace|$root/scripts/race-trace.sh --no-emulated --interpreters ""
unknown option '--frob'|$root/scripts/race-trace.sh --frob
unknown option '--frob'|$root/scripts/install-deps.sh --frob
unknown option '--frob'|$root/scripts/test.sh --frob
CASES
    ;;
  signals-demo)
    for sig in TERM INT HUP; do
      interrupt "$tmp/$sig.log" "$sig" "$tmp/$sig/points/py3/server.out" \
        "$root/scripts/demo.sh" --no-build --no-install --policies py3 --duration 30s --out "$tmp/$sig"
      # The server was stopped, not killed: what it measured is written.
      [[ -n "$(get "$tmp/$sig/points/py3/server.json" fib.calls 2>/dev/null)" ]] ||
        fail "SIG$sig: the server's stats were lost"
    done
    ;;
  signals-sweep-reference)
    printf 'policies="py3"\nduration="30s"\n' >"$tmp/long.sh"
    interrupt "$tmp/sweep.log" TERM "$tmp/sweep/points/py3/server.out" \
      "$root/scripts/sweep.sh" "$tmp/long.sh" --no-build --out "$tmp/sweep"
    interrupt "$tmp/ref.log" TERM "$tmp/ref/points/real-python3/server.out" \
      "$root/scripts/reference.sh" --interpreter python3=/usr/bin/python3 --duration 30s --no-build --out "$tmp/ref"
    ;;
  docker-backend)
    # demo.sh --docker against a stand-in docker client that runs the programs here.
    export DOCKER_CLI="$root/tests/scripts/fixtures/fake-docker" FAKE_DOCKER_STATE="$tmp/docker"
    "$root/scripts/demo.sh" --docker --no-build --quick --policies none,py3 --server-cpus= --client-cpus= \
      --out "$tmp/demo" >"$tmp/log" 2>&1 || fail "demo --docker failed: $(cat "$tmp/log")"
    grep -q '^py3 ' "$tmp/log" || fail "no table row for py3: $(cat "$tmp/log")"
    [[ $(get "$tmp/demo/points/py3/point.json" point.backend) == docker ]] || fail "not run by the docker backend"
    [[ $(get "$tmp/demo/points/py3/point.json" status) == ok ]] || fail "py3 failed: $(cat "$tmp/log")"
    [[ -s "$tmp/demo/docker.txt" ]] || fail "no docker.txt"
    if has_trace "$CONVOY_SERVER_BIN"; then
      expect_png "$tmp/demo/timeline-py3.png"
    else
      grep -qx "timeline: this convoy-server has no --trace; skipped" "$tmp/log" ||
        fail "no line saying the timeline was skipped: $(cat "$tmp/log")"
    fi
    interrupt "$tmp/term.log" TERM "$tmp/term/points/py3/server.out" \
      "$root/scripts/demo.sh" --docker --no-build --policies py3 --duration 30s --out "$tmp/term"
    ;;
  results-unique)
    # Two results directories made in the same second are two directories.
    mapfile -t dirs < <(bash -c 'source "$1/scripts/lib/common.sh"; new_results_dir script-test
      new_results_dir script-test' _ "$root")
    rm -rf "${dirs[@]}"
    [[ ${#dirs[@]} -eq 2 && "${dirs[0]}" != "${dirs[1]}" ]] || fail "not two directories: ${dirs[*]}"
    [[ "${dirs[0]}" == "$root/results/script-test-"* ]] || fail "not under results/: ${dirs[0]}"
    ;;
  reference-eventloop)
    "$root/scripts/reference.sh" --interpreter python3=/usr/bin/python3 --io-model eventloop --duration 1s --no-build \
      --out "$tmp/ref" >"$tmp/log" 2>&1 || fail "reference.sh failed: $(cat "$tmp/log")"
    row=$(awk -F'\t' '$1 == "python3"' "$tmp/ref/table.tsv")
    [[ -n "$row" ]] || fail "no python3 row: $(cat "$tmp/log")"
    awk -F'\t' '{ exit !($3 + 0 > 0 && $6 == "py3" && $7 + 0 > 0) }' <<<"$row" || fail "incomplete row: $row"
    [[ $(jq -r .server.config.io_model "$tmp/ref/points/emulated-py3/point.json") == eventloop ]] ||
      fail "the emulated server did not run the event loop"
    grep -q 'SelectorEventLoop' "$tmp/ref/points/real-python3/server.err" ||
      fail "the real server was not the asyncio one: $(cat "$tmp/ref/points/real-python3/server.err")"
    ;;
  sweep-io-model)
    cat >"$tmp/models.sh" <<'SWEEP'
policies="none"
io_models="threads eventloop"
connections="1 3"
duration="1s"
warmup="0.2s"
SWEEP
    sweep "$tmp/models.sh" "$tmp/log"
    csv="$tmp/out/sweep.csv"
    [[ $(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
      $c["status"] == "ok" { print $c["io_model"] "/" $c["connections"] }' "$csv" | sort | tr '\n' ' ') == \
      "eventloop/1 eventloop/3 threads/1 threads/3 " ]] || fail "unexpected points: $(cat "$csv")"
    for f in "$tmp"/out/points/*eventloop*/point.json; do
      [[ $(jq -r .server.config.io_model "$f") == eventloop ]] || fail "$f: not served by the event loop"
    done
    expect_png "$tmp/out/latency-vs-connections.png"
    ;;
  *) fail "unknown case '$1'" ;;
esac
echo "ok: $1"
