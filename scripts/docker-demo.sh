#!/usr/bin/env bash
# The demo in containers: builds the convoy image, then measures the round trip of 100-byte
# echoes with 2 ms think time against convoy-server with one fib thread under each lock policy
# (none, py2, py3). Server and client run in separate containers from the same image, each pinned
# to its own CPUs, on the host's network. Prints the same table as scripts/demo.sh; results (JSON
# per policy, HdrHistogram files, a PNG, the image and engine used) go under
# results/docker-demo-<time>/ on the host.
#
# It uses the Docker engine the docker client reaches (DOCKER_HOST or the default socket). When
# there is none and it runs as root, it starts a private dockerd for the run, as
# scripts/docker-smoke.sh does, and makes the debian:bookworm base with debootstrap if no registry
# can be reached (docs/docker.md).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$CONVOY_ROOT/scripts/lib/docker.sh"

usage() {
  cat <<USAGE
usage: scripts/docker-demo.sh [options]
  --duration D       measured time per policy (default 4s; --quick: 1s)
  --quick            a short run (1 s per policy, 0.2 s warm-up)
  --policies LIST    space- or comma-separated (default "none py2 py3")
  --cpu-threads N    fib threads next to the echo threads (default 1)
  --think D          client think time between a reply and the next request (default 2ms)
  --server-cpus L    the server container's CPUs (cpuset list; default \$SERVER_CPUS or 0)
  --client-cpus L    the client container's CPUs (default \$CLIENT_CPUS or 1); "" = unpinned
  --out DIR          where to write results (default results/docker-demo-<time>)
  --image NAME       the image to build and run (default \$CONVOY_IMAGE or convoy:latest)
  --no-build         run the image as it is
  --private-engine   always start a private dockerd (needs root), even if an engine is running
USAGE
}

duration=4s warmup=0.5s policies="none py2 py3" cpu_threads=1 think=2ms out="" build=1 private=0
if (($(nproc) > 1)); then
  SERVER_CPUS=${SERVER_CPUS-0} CLIENT_CPUS=${CLIENT_CPUS-1}
else
  SERVER_CPUS=${SERVER_CPUS-0} CLIENT_CPUS=${CLIENT_CPUS-0}
fi
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --quick) duration=1s warmup=0.2s; shift ;;
    --policies) policies=${2:?--policies needs a value}; shift 2 ;;
    --cpu-threads) cpu_threads=${2:?--cpu-threads needs a value}; shift 2 ;;
    --think) think=${2:?--think needs a value}; shift 2 ;;
    --server-cpus) SERVER_CPUS=${2?--server-cpus needs a value}; shift 2 ;;
    --client-cpus) CLIENT_CPUS=${2?--client-cpus needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --image) CONVOY_IMAGE=${2:?--image needs a value}; shift 2 ;;
    --no-build) build=0; shift ;;
    --private-engine) private=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
policies=${policies//,/ }
seconds "$duration" >/dev/null
[[ "$cpu_threads" =~ ^[0-9]+$ ]] || die "--cpu-threads must be a whole number, not '$cpu_threads'"
command -v jq >/dev/null || die "jq is missing (scripts/install-deps.sh installs it)"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  engine_stop
  [[ -n "$out" && -d "$out" ]] && results_handback "$out"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((private == 0)) && timeout 10 "$DOCKER_CLI" version >/dev/null 2>&1; then
  note "using the Docker engine at ${DOCKER_HOST:-the default socket}"
else
  install_docker_tools || die "no Docker engine: $ENGINE_WHY"
  engine_start || die "no Docker engine: $ENGINE_WHY"
  note "started a private dockerd ($DOCKERD_PID); it stops when the demo ends"
fi
if ((build)); then
  ensure_base_images || die "$ENGINE_WHY"
  note "building $CONVOY_IMAGE (the first build takes several minutes)"
  build_log=$(mktemp)
  BUILD_LOG=$build_log build_image ||
    { tail -n 20 "$build_log" >&2; rm -f "$build_log"; die "docker build failed"; }
  rm -f "$build_log"
fi
timeout 30 "$DOCKER_CLI" image inspect "$CONVOY_IMAGE" >/dev/null 2>&1 || die "no image $CONVOY_IMAGE"

out=${out:-$CONVOY_ROOT/results/docker-demo-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
container_user_args "$out"
record_docker_context "$out/docker.txt"
CLIENT_TIMEOUT=$(awk -v d="$(seconds "$duration")" -v w="$(seconds "$warmup")" 'BEGIN { printf "%d", d + w + 60 }')

client_args=(--mode closed --size 100 --think "$think" --duration "$duration" --warmup "$warmup"
  --timeout 2s --connections 1)
failed=0
for policy in $policies; do
  server_args=(--policy "$policy" --cpu-threads "$cpu_threads" --duration 3600s)
  params=$(jq -nc --arg policy "$policy" --argjson cpu "$cpu_threads" --arg think "$think" \
    --arg duration "$duration" --arg scpus "$SERVER_CPUS" --arg ccpus "$CLIENT_CPUS" \
    '{policy: $policy, cpu_threads: $cpu, think: $think, duration: $duration,
      server_cpus: $scpus, client_cpus: $ccpus, containers: true}')
  printf 'docker-demo: %-5s ... ' "$policy" >&2
  if docker_point "$out" "$policy" "$params" server_args client_args; then
    jq -r "$summary_filter"' | "p50 \(.p50_us) us, p99 \(.p99_us) us"' "$out/$policy/point.json" >&2
  else
    failed=1
    jq -r '"FAILED: \(.error)"' "$out/$policy/point.json" >&2
  fi
done

echo
echo "server CPUs: ${SERVER_CPUS:-all}, client CPUs: ${CLIENT_CPUS:-all} (image $CONVOY_IMAGE)"
summarize_policies "$out"
echo

# The percentile curves, drawn by scripts/plot.sh inside the image (it has gnuplot).
plot_args=()
for policy in $policies; do
  [[ -s "$out/$policy/client.hgrm" ]] && plot_args+=("$policy=results/$policy/client.hgrm")
done
if ((${#plot_args[@]})); then
  CONVOY_CONTAINERS+=("convoy-$$-plot")
  timeout 120 "$DOCKER_CLI" run --rm --name "convoy-$$-plot" --network host "${CONTAINER_USER[@]}" \
    -v "$out:/opt/convoy/results" \
    "$CONVOY_IMAGE" scripts/plot.sh --percentiles results/latency-percentiles.png "${plot_args[@]}" \
    >"$out/plot.log" 2>&1 || note "the plot failed (see $out/plot.log); the numbers above are unaffected"
fi

echo "results: $out"
[[ -f "$out/latency-percentiles.png" ]] && echo "plot:    $out/latency-percentiles.png"
exit "$failed"
