#!/usr/bin/env bash
# The Docker image, built and run for real: starts a private dockerd, makes the debian:bookworm
# base locally when no registry answers, builds the image, runs a short py2-vs-py3 comparison with
# the server and the client in separate containers, brings compose.yaml up once, and checks the
# result files. scripts/test.sh runs it when CI=true or when asked (--docker, CONVOY_DOCKER_SMOKE=1).
#
# Exit status: 0 when it passed, or when no Docker engine can run on this machine (it then prints
# SKIPPED and why; CONVOY_DOCKER_REQUIRED=1 makes that a failure); 1 when the image, the compose
# file or the run is broken; 2 for bad settings. Everything it starts is stopped, by PID or
# container name, on every exit path. Results and logs: results/docker-smoke-<time>-<suffix>/
# (or CONVOY_SMOKE_OUT, which must not exist yet or be empty).
#
# Environment: SERVER_CPUS (default 0) and CLIENT_CPUS (default 1) pin the two containers, empty
# for no pinning; SMOKE_DURATION (2s) per policy; CONVOY_DOCKER_CACHE (~/.cache/convoy/docker)
# keeps the engine's images and build cache. On 2 CPUs: about 7 minutes the first time, 20 s when
# the C++ sources did not change since the last run, the compile time (3-5 min) when they did.
set -euo pipefail
source "$(dirname "$0")/lib/backends.sh"

case "${1:-}" in
  "") ;;
  -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) unknown_option "$1" ;;
esac
SMOKE_DURATION=${SMOKE_DURATION:-2s}
second=1
(($(nproc) > 1)) || second=0
SERVER_CPUS=${SERVER_CPUS-0} CLIENT_CPUS=${CLIENT_CPUS-$second}
check_duration SMOKE_DURATION "$SMOKE_DURATION"
check_cpus SERVER_CPUS "$SERVER_CPUS"
check_cpus CLIENT_CPUS "$CLIENT_CPUS"
if [[ -n "${CONVOY_SMOKE_OUT:-}" ]]; then
  [[ ! -e "$CONVOY_SMOKE_OUT" || -z "$(ls -A "$CONVOY_SMOKE_OUT" 2>/dev/null)" ]] ||
    die "CONVOY_SMOKE_OUT: '$CONVOY_SMOKE_OUT' is not empty"
  mkdir -p "$CONVOY_SMOKE_OUT"
  out=$(cd "$CONVOY_SMOKE_OUT" && pwd)
else
  out=$(new_results_dir docker-smoke)
fi
compose_project="convoysmoke$$"
CONVOY_BACKEND=docker

say() { echo "docker-smoke: [$(elapsed)] $*"; }
skip() {
  if [[ "${CONVOY_DOCKER_REQUIRED:-0}" == 1 ]]; then
    echo "docker-smoke: FAILED (CONVOY_DOCKER_REQUIRED=1): no Docker engine can run here: $*" >&2
    exit 1
  fi
  echo "docker-smoke: SKIPPED: no Docker engine can run on this machine: $*"
  exit 0
}
fail() {
  echo "docker-smoke: FAILED after $(elapsed): $*" >&2
  echo "docker-smoke: logs and results in $out" >&2
  exit 1
}

# Debian's docker-compose (v1), else the compose plugin.
compose() {
  local cmd=(docker-compose)
  command -v docker-compose >/dev/null || cmd=("$DOCKER_CLI" compose)
  run timeout "$1" "${cmd[@]}" -p "$compose_project" -f "$CONVOY_ROOT/compose.yaml" "${@:2}"
}
compose_down() {
  [[ -z "$DOCKERD_PID" ]] || compose 60 down -t 5 >/dev/null 2>&1 || true
}
on_exit compose_down # runs before the engine stops (added after docker.sh's clean-up)
KEEP_ENGINE_LOG="$out/dockerd.log"

# free_port — a port nothing listens on now. compose.yaml takes a fixed port, so this can race
# with another program; compose_up tries again on a port taken meanwhile.
free_port() {
  local port=$((20000 + RANDOM % 20000))
  while ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; do port=$((port + 1)); done
  echo "$port"
}

# 1. The tools, and the compose file (its validation needs no engine).
check_compose() {
  export CONVOY_PORT DURATION=$SMOKE_DURATION SERVER_CONFIG=py3 CLIENT_CONFIG=think-2ms
  export CONVOY_IMAGE SERVER_CPUS CLIENT_CPUS CONVOY_RESULTS="$out/compose"
  CONVOY_PORT=$(free_port)
  compose 60 config >"$out/compose.config.yaml" 2>"$out/compose.err" ||
    fail "compose.yaml does not validate: $(last_line "$out/compose.err")"
  local keys=("network_mode: host" "init: true" "condition: service_healthy" "healthcheck:") key
  [[ -z "$SERVER_CPUS" ]] || keys+=("cpuset: '?$SERVER_CPUS'?\$")
  [[ -z "$CLIENT_CPUS" ]] || keys+=("cpuset: '?$CLIENT_CPUS'?\$")
  for key in "${keys[@]}"; do
    grep -qE -- "$key" "$out/compose.config.yaml" || fail "compose.yaml: no '$key' in the resolved file"
  done
  say "compose.yaml validates"
}

# 3. The image: built, its default command, its user.
check_image() {
  BUILD_LOG="$out/build.log" build_image || fail "docker build failed: $(grep -v '^ ---> ' "$out/build.log" | tail -n 5)"
  local size uid
  size=$(timeout 30 "$DOCKER_CLI" image inspect -f '{{.Size}}' "$CONVOY_IMAGE")
  say "built $CONVOY_IMAGE ($((size / 1000000)) MB)"
  dk 60 run --rm --network host "$CONVOY_IMAGE" >"$out/help.txt" 2>&1 || fail "the default command failed: $(last_line "$out/help.txt")"
  if ! grep -q '^convoy-server ' "$out/help.txt" || ! grep -q '^convoy-client ' "$out/help.txt" ||
    ! grep -q 'demo' "$out/help.txt"; then
    fail "the default command does not print the versions and the demo help (see $out/help.txt)"
  fi
  uid=$(timeout 60 "$DOCKER_CLI" run --rm --network host "$CONVOY_IMAGE" id -u 2>&1) || true
  [[ "$uid" =~ ^[0-9]+$ && "$uid" -ne 0 ]] || fail "the image runs as uid '$uid', not as a non-root user"
}

# 5. compose.yaml, brought up once (py3, the image just built); again on another port when the
# chosen one was taken in the meantime.
compose_up() {
  local crc
  mkdir -p "$out/compose"
  [[ $(id -u) -ne 0 ]] || chown 10001:10001 "$out/compose"
  CONVOY_CONTAINERS+=("${compose_project}_server_1" "${compose_project}_client_1")
  for _ in 1 2 3; do
    crc=0
    compose 300 up --no-build --abort-on-container-exit --exit-code-from client >"$out/compose.log" 2>&1 || crc=$?
    compose 60 down -t 5 >>"$out/compose.log" 2>&1 || true
    grep -qi 'address already in use' "$out/compose.log" || break
    CONVOY_PORT=$(free_port)
  done
  ((crc == 0)) || fail "compose up exited $crc: $(grep -v '^\s*$' "$out/compose.log" | tail -n 3)"
  say "compose up: server healthy, client done, server stopped"
}

install_docker_tools || skip "$ENGINE_WHY"
check_compose

# 2. A private engine and a base image; failures here mean Docker cannot run on this machine.
engine_start || { rc=$?; ((rc == 1)) && skip "$ENGINE_WHY"; fail "$ENGINE_WHY"; }
say "dockerd $DOCKERD_PID is up ($DOCKER_HOST)"
ensure_base_images || skip "$ENGINE_WHY"
if ! dk 120 run --rm --network host debian:bookworm-slim true >"$out/probe.log" 2>&1; then
  skip "the engine starts but cannot run a container: $(last_line "$out/probe.log")"
fi
say "debian:bookworm and debian:bookworm-slim are there; containers run"
check_image

# 4. py2 against py3, server and client in separate containers, by the demo's docker backend.
docker_results "$out"
timeout=$(cdata seconds --ceil "$SMOKE_DURATION" 60s)
# shellcheck disable=SC2034 # passed by name
client_args=(--mode closed --size 100 --think 2ms --duration "$SMOKE_DURATION" --warmup 0.5s
  --timeout 2s --connections 1)
for policy in py2 py3; do
  server_args=(--policy "$policy" --cpu-threads 1)
  cdata params "$out/$policy" "policy=$policy"
  measure_docker "$out/$policy" "$timeout" server_args client_args >"$out/$policy.outcome" ||
    fail "$policy: $(cat "$out/$policy.outcome")"
  say "$policy: $(cat "$out/$policy.outcome")"
done
compose_up

# 6. The result files, and the convoy itself with generous bounds: py3 makes each round trip
# wait for the fib thread's switch interval (5 ms, so a median of 5-10 ms), py2 does not.
for policy in py2 py3; do
  cdata smoke-point "$out/$policy" --server-cpus "$SERVER_CPUS" --client-cpus "$CLIENT_CPUS" ||
    fail "the $policy result files are incomplete"
done
cdata smoke-compose "$out/compose/compose-py3-client.json" "$out/compose/compose-py3-server.json" \
  --server-cpus "$SERVER_CPUS" --client-cpus "$CLIENT_CPUS" || fail "the compose result files are incomplete"
medians=$(cdata smoke-convoy "$out/py3" "$out/py2") || fail "no convoy"
say "results check out: $medians"
echo "docker-smoke: PASSED in $SECONDS s"
