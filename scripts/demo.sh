#!/usr/bin/env bash
# The main job: the convoy effect in one command. Builds the release binaries, then measures the
# round trip of 100-byte echoes with 2 ms think time against convoy-server with one fib thread
# under each lock policy (none, py2, py3), and prints them side by side. Results (JSON per
# policy, HdrHistogram percentile files, a PNG of the percentile curves) go under
# results/demo-<time>/.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

usage() {
  cat <<USAGE
usage: scripts/demo.sh [options]
  --duration D      measured time per policy (default 4s; --quick: 1s)
  --quick           a short run (1 s per policy, 0.2 s warm-up) to check that everything works
  --policies LIST   space- or comma-separated (default "none py2 py3")
  --cpu-threads N   fib threads next to the echo threads (default 1)
  --think D         client think time between a reply and the next request (default 2ms)
  --server-cpus L   pin the server to these CPUs (taskset list, e.g. 0 or 0-2)
  --client-cpus L   pin the client to these CPUs
  --out DIR         where to write results (default results/demo-<time>)
  --no-build        use existing binaries (CONVOY_BIN_DIR or build/release)
  --no-install      do not install missing Debian packages
USAGE
}

duration=4s warmup=0.5s policies="none py2 py3" cpu_threads=1 think=2ms
server_cpus="" client_cpus="" out="" build=1 install=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --quick) duration=1s warmup=0.2s; shift ;;
    --policies) policies=${2:?--policies needs a value}; shift 2 ;;
    --cpu-threads) cpu_threads=${2:?--cpu-threads needs a value}; shift 2 ;;
    --think) think=${2:?--think needs a value}; shift 2 ;;
    --server-cpus) server_cpus=${2:?--server-cpus needs a value}; shift 2 ;;
    --client-cpus) client_cpus=${2:?--client-cpus needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-install) install=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
policies=${policies//,/ }
seconds "$duration" >/dev/null
[[ "$cpu_threads" =~ ^[0-9]+$ ]] || die "--cpu-threads must be a whole number, not '$cpu_threads'"

if ((install)); then "$CONVOY_ROOT/scripts/install-deps.sh"; fi
if ((build)); then
  note "building the release binaries"
  build_release
else
  find_binaries || die "no binaries found; build them or drop --no-build"
fi

out=${out:-$CONVOY_ROOT/results/demo-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
CLIENT_TIMEOUT=$(awk -v d="$(seconds "$duration")" -v w="$(seconds "$warmup")" 'BEGIN { printf "%d", d + w + 30 }')

client_args=(--mode closed --size 100 --think "$think" --duration "$duration" --warmup "$warmup"
  --timeout 2s --connections 1)
failed=0
for policy in $policies; do
  server_args=(--policy "$policy" --cpu-threads "$cpu_threads")
  params=$(jq -nc --arg policy "$policy" --argjson cpu "$cpu_threads" --arg think "$think" \
    --arg duration "$duration" '{policy: $policy, cpu_threads: $cpu, think: $think, duration: $duration}')
  printf 'demo: %-5s ... ' "$policy" >&2
  if run_point "$out/$policy" "$params" "$server_cpus" "$client_cpus" server_args client_args; then
    jq -r "$summary_filter"' | "p50 \(.p50_us) us, p99 \(.p99_us) us"' "$out/$policy/point.json" >&2
  else
    failed=1
    jq -r '"FAILED: \(.error)"' "$out/$policy/point.json" >&2
  fi
done

echo
summarize_policies "$out"
echo

# The percentile curves: one line per policy from its HdrHistogram percentile file.
plot_args=()
for policy in $policies; do
  [[ -s "$out/$policy/client.hgrm" ]] && plot_args+=("$policy=$out/$policy/client.hgrm")
done
if ((${#plot_args[@]})); then
  "$CONVOY_ROOT/scripts/plot.sh" --percentiles "$out/latency-percentiles.png" "${plot_args[@]}" ||
    note "the plot failed; the numbers above and the JSON files are unaffected"
fi

echo "results: $out"
[[ -f "$out/latency-percentiles.png" ]] && echo "plot:    $out/latency-percentiles.png"
exit "$failed"
