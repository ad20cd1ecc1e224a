#!/usr/bin/env bash
# The main job: the convoy effect in one command. Builds the release binaries, then measures the
# round trip of 100-byte echoes with 2 ms think time against convoy-server with one fib thread
# under each lock policy (by default none, py2 and py3), and prints them side by side. Results
# (JSON per policy, HdrHistogram percentile files, a CSV, a PNG of the percentile curves) go under
# results/demo-<time>-<suffix>/. When convoy-server can trace (--trace), each policy's server
# also records 30 ms of the measured phase: trace-<policy>.json (Perfetto and chrome://tracing
# open it), drawn as timeline-<policy>.png, and py2 above py3 in timelines.png.
#
# With --docker (what scripts/docker-demo.sh runs), server and client run in separate containers
# from the convoy image, each pinned to its own CPUs, on the host's network. It uses the Docker
# engine the docker client reaches; when there is none and it runs as root, it starts a private
# dockerd for the run and makes the debian:bookworm base with debootstrap if no registry can be
# reached (docs/docker.md).
set -euo pipefail
source "$(dirname "$0")/lib/backends.sh"

usage() {
  cat <<USAGE
usage: scripts/demo.sh [options]       (--name value or --name=value)
  --duration D      measured time per policy (default 4s; --quick: 1s)
  --quick           a short run (1 s per policy, 0.2 s warm-up) to check that everything works
  --policies LIST   space- or comma-separated; "all" = every policy convoy-server --list-policies
                    names (default: none py2 py3)
  --cpu-threads N   fib threads next to the echo threads (default 1)
  --think D         client think time between a reply and the next request (default 2ms)
  --out DIR         where to write results (default results/demo-<time>-<suffix>); an earlier
                    run's directory is resumed: points measured with the same settings are kept
  --no-timeline     record no trace and draw no timeline (default: --timeline, when the
                    server has --trace: 30 ms of each policy's run, from warm-up + 0.2 s)
  --no-install      do not install missing Debian packages
$RUNNER_USAGE
Durations take a unit: 500us, 2ms, 1.5s, 2m.
USAGE
}

# plan_traces OUT — the trace options for every point of OUT's plan, when the server has them:
# OUT/trace-ID.json from warm-up + trace_past_warmup for trace_for. TRACED: the points' IDs.
TRACED=() TIMELINES=()
plan_traces() {
  local out=$1 id after
  if ! server_has_option --trace; then
    echo "timeline: this convoy-server has no --trace; skipped"
    return
  fi
  after=$(cdata seconds "$warmup" "$trace_past_warmup")s
  local buffer=()
  ! server_has_option --trace-buffer || buffer=(--trace-buffer "$trace_buffer")
  while IFS=$'\t' read -r id _; do
    add_server_args "$out/points/$id" --trace "$(server_path "$out" "trace-$id.json")" \
      --trace-after "$after" --trace-for "$trace_for" "${buffer[@]}"
    TRACED+=("$id")
  done <"$out/todo"
}

# draw_timelines OUT — timeline-ID.png (and its summary, timeline-ID.txt) of every trace there,
# and timelines.png with py2 above py3 when both are. TIMELINES: the pictures drawn.
draw_timelines() {
  local out=$1 id
  for id in "${TRACED[@]}"; do
    local trace="$out/trace-$id.json"
    if [[ ! -s "$trace" ]]; then
      note "no trace from $id (was it measured before, without one?)"
      continue
    fi
    if cdata timeline "$trace" --out "$out/timeline-$id.png" >"$out/timeline-$id.txt"; then
      sed -i '/^wrote /d' "$out/timeline-$id.txt"
      TIMELINES+=("$out/timeline-$id.png")
    else
      note "no timeline of $id; its trace is kept"
    fi
  done
  [[ " ${TIMELINES[*]} " == *" $out/timeline-py2.png "* && " ${TIMELINES[*]} " == *" $out/timeline-py3.png "* ]] ||
    return 0
  if cdata timelines "$out/timelines.png" "$out/trace-py2.json" "$out/trace-py3.json" --no-summary >/dev/null; then
    TIMELINES+=("$out/timelines.png")
  else
    note "no timelines.png"
  fi
}

duration=4s warmup=0.5s policies="" cpu_threads=1 think=2ms out="" install=1 timeline=1
# What the timeline records: this long, this far into the run (after the warm-up), and at most this
# many events per thread (py2 with one fib thread makes some 25 000 in 30 ms).
trace_for=30ms trace_past_warmup=200ms trace_buffer=65536
split_options "$@"
set -- "${OPTIONS[@]}"
while (($#)); do
  if runner_option "$@"; then shift "$TAKEN"; continue; fi
  case "$1" in
    --duration) need "$@"; duration=$2; shift 2 ;;
    --quick) duration=1s warmup=0.2s; shift ;;
    --policies) need "$@"; policies=$2; shift 2 ;;
    --cpu-threads) need "$@"; cpu_threads=$2; shift 2 ;;
    --think) need "$@"; think=$2; shift 2 ;;
    --out) need "$@"; out=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    --timeline) timeline=1; shift ;;
    --no-timeline) timeline=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done

policies=${policies//,/ }
check_positive_duration --duration "$duration"
check_duration --think "$think"
check_count --cpu-threads "$cpu_threads"
runner_check
[[ -z "$out" || ! -e "$out" || -d "$out" ]] || die "--out: '$out' is not a directory"
# The names are checked against the binaries at hand; a first build is checked once it is there.
find_binaries || true
# shellcheck disable=SC2086 # the list is meant to split
check_policies "${SERVER_BIN:-}" $policies || true

prepare_programs "$install"
name=demo
[[ "$CONVOY_BACKEND" != docker ]] || name=docker-demo
out=${out:-$(new_results_dir "$name")}
mkdir -p "$out"
out=$(cd "$out" && pwd)
prepare_results "$out"
runner_notes
settings=(--set "cpu_threads=$cpu_threads" --set "think=$think" --set "duration=$duration"
  --set "warmup=$warmup" "${RUN_NOTES[@]}")
[[ -z "$policies" ]] || settings+=(--set "policies=$policies")
plan_points "$out" --policies "$out/policies.json" "${settings[@]}"
((timeline == 0)) || plan_traces "$out"

failed=0
run_plan "$out" || failed=1
echo
[[ "$CONVOY_BACKEND" != docker ]] ||
  echo "server CPUs: ${SERVER_CPUS:-all}, client CPUs: ${CLIENT_CPUS:-all} (image $CONVOY_IMAGE)"
cdata summary "$out"
echo
cdata csv "$out" >/dev/null
cdata plot-demo "$out" "$out/latency-percentiles.png" >/dev/null ||
  note "no plot; the numbers above and the JSON files are unaffected"
((timeline == 0)) || draw_timelines "$out"
echo "results: $out"
[[ ! -f "$out/latency-percentiles.png" ]] || echo "plot:    $out/latency-percentiles.png"
for png in "${TIMELINES[@]}"; do echo "timeline: $png"; done
exit "$failed"
