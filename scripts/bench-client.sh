#!/usr/bin/env bash
# How far convoy-client is from the loopback floor, and how well it paces. Prints numbers; it is
# a benchmark, not a test (nothing fails on a slow machine).
#
#   1. Floor: sockperf ping-pong --tcp --full-rtt against its own server, then convoy-client
#      --mode closed against an echo server (convoy-server --policy none if built in
#      build/release, else the tests' convoy-test-echo), interleaved, ROUNDS times. Target: the
#      median convoy p50 within 1.25x of sockperf's (both full round trips, 100-byte messages).
#   2. Pacing: convoy-client --mode open at 20 000 req/s over 4 connections. Target: achieved rate
#      within 1 % of the offered rate.
#
# Usage: scripts/bench-client.sh [SECONDS_PER_RUN] [ROUNDS]      (defaults: 5 and 3)
# Env:   BUILD=build/client-release (binary dir, release preset), SERVER=path to convoy-server
set -euo pipefail
cd "$(dirname "$0")/.."

run_s=${1:-5}
rounds=${2:-3}
build=${BUILD:-build/client-release}
size=100

command -v sockperf >/dev/null || { echo "bench-client: sockperf is not installed (scripts/install-deps.sh --all)" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench-client: jq is not installed (scripts/install-deps.sh)" >&2; exit 1; }

echo "== building $build (release preset)"
cmake --preset release -B "$build" >/dev/null
cmake --build "$build" --target convoy-client convoy-test-echo -j2 >/dev/null
client="$build/client/convoy-client"
test_echo="$build/tests/client/convoy-test-echo"
server=${SERVER:-build/release/server/convoy-server}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  while true; do
    p=$((20000 + RANDOM % 40000))
    listening "$p" || { echo "$p"; return; }
  done
}
wait_listening() {
  for _ in $(seq 100); do
    listening "$1" && return 0
    sleep 0.05
  done
  echo "bench-client: nothing listens on port $1" >&2
  exit 1
}

# --- servers, each stopped by its PID at exit
sp_port=$(free_port)
sockperf server -i 127.0.0.1 -p "$sp_port" --tcp >"$work/sockperf-server.log" 2>&1 &
pids+=($!)
wait_listening "$sp_port"

if [[ -x "$server" ]]; then
  echo_port=$(free_port)
  "$server" --port "$echo_port" --policy none >"$work/server.log" 2>&1 &
  pids+=($!)
  echo_name="convoy-server --policy none"
else
  "$test_echo" >"$work/echo.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$work/echo.out" && break; sleep 0.05; done
  echo_port=$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$work/echo.out")
  echo_name="convoy-test-echo (blocking, thread per connection)"
fi
wait_listening "$echo_port"

echo "== host: $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== client: $("$client" --version)"
echo "== echo server for convoy-client: $echo_name"
echo

sockperf_p50() {
  sockperf ping-pong -i 127.0.0.1 -p "$sp_port" --tcp --full-rtt -t "$run_s" --msg-size "$size" \
    2>&1 | sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p'
}
convoy_p50() {
  "$client" -p "$echo_port" --mode closed --size "$size" -d "${run_s}s" -w 400ms \
    --json "$work/closed.json" >/dev/null 2>&1
  jq -r '.results.latency.p50_us' "$work/closed.json"
}

echo "== 1. loopback floor, ${run_s} s per run, ${rounds} interleaved rounds, ${size}-byte messages (p50 RTT, us)"
sp=()
cv=()
for r in $(seq "$rounds"); do
  s=$(sockperf_p50)
  c=$(convoy_p50)
  printf '   round %d: sockperf %8.2f   convoy-client %8.2f\n' "$r" "$s" "$c"
  sp+=("$s")
  cv+=("$c")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
sp_med=$(median "${sp[@]}")
cv_med=$(median "${cv[@]}")
ratio=$(awk -v a="$cv_med" -v b="$sp_med" 'BEGIN {printf "%.3f", a / b}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r <= 1.25 ? "within target" : "ABOVE target")}')
printf '   median:  sockperf %8.2f   convoy-client %8.2f   ratio %s (target <= 1.25: %s)\n\n' \
  "$sp_med" "$cv_med" "$ratio" "$verdict"

echo "== 2. open loop: 20000 req/s, uniform, 4 connections, ${run_s} s after 1 s warm-up"
"$client" -p "$echo_port" --mode open --rate 20000 -c 4 --size "$size" -d "${run_s}s" -w 1s \
  --json "$work/open.json" --hgrm "$work/open.hgrm" >"$work/open.txt" 2>&1 || true
sed 's/^/   /' "$work/open.txt"
jq -r '.results | "   achieved \(.achieved_rate | floor) req/s of \(.offered_rate) offered (\((.achieved_rate / .offered_rate - 1) * 100000 | round / 1000) %); schedule lag p50 \(.schedule_lag.p50_us * 10 | round / 10) us, p99 \(.schedule_lag.p99_us * 10 | round / 10) us"' \
  "$work/open.json"
awk -v a="$(jq -r .results.achieved_rate "$work/open.json")" \
  'BEGIN {d = (a / 20000 - 1) * 100; if (d < 0) d = -d; printf "   target |achieved - offered| <= 1 %%: %s\n", (d <= 1 ? "within target" : "OUTSIDE target")}'
