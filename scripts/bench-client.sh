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
# Every server listens on a port the kernel picks; all of them are stopped when the script ends.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$CONVOY_ROOT/scripts/lib/run.sh"

usage() {
  cat <<USAGE
usage: scripts/bench-client.sh [SECONDS_PER_RUN] [ROUNDS]       (defaults: 5 and 3)
       scripts/bench-client.sh [--seconds N] [--rounds N]
Environment: BUILD=build/client-release (binary dir, release preset), SERVER=path to convoy-server
USAGE
}

run_s=5 rounds=3 positional=0 size=100 rate=20000
split_options "$@"
set -- "${OPTIONS[@]}"
while (($#)); do
  case "$1" in
    --seconds) need "$@"; run_s=$2; shift 2 ;;
    --rounds) need "$@"; rounds=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) unknown_option "$1" ;;
    *)
      positional=$((positional + 1))
      case $positional in 1) run_s=$1 ;; 2) rounds=$1 ;; *) die "at most two numbers: SECONDS_PER_RUN ROUNDS" ;; esac
      shift
      ;;
  esac
done
[[ "$run_s" =~ ^[1-9][0-9]*$ ]] || die "SECONDS_PER_RUN must be a positive whole number, not '$run_s'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number, not '$rounds'"
command -v sockperf >/dev/null || die "sockperf is not installed (scripts/install-deps.sh --all)"
build=${BUILD:-$CONVOY_ROOT/build/client-release}
server=${SERVER:-$CONVOY_ROOT/build/release/server/convoy-server}

echo "== building $build (release preset)"
run env -C "$CONVOY_ROOT" cmake --preset release -B "$build" >/dev/null
run cmake --build "$build" --target convoy-client convoy-test-echo -j2 >/dev/null
client="$build/client/convoy-client"
work=$(mktemp -d)
remove_work() { rm -rf "$work"; }
on_exit remove_work

# listening_port PID — the TCP port PID listens on (sockperf binds port 0 but does not say which
# port it got); waits up to 5 s. Sets LISTEN_PORT.
listening_port() {
  local i line
  for ((i = 0; i < 100; i++)); do
    while read -r line; do
      if [[ "$line" == *"pid=$1,"* && "$line" =~ :([0-9]+)[[:space:]] ]]; then
        LISTEN_PORT=${BASH_REMATCH[1]}
        return 0
      fi
    done < <(ss -Hltnp 2>/dev/null)
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  die "$2 does not listen (see $work)"
}
spawn sockperf server -i 127.0.0.1 -p 0 --tcp >"$work/sockperf-server.log" 2>&1
listening_port "$SPAWNED" "sockperf server"
sp_port=$LISTEN_PORT
if [[ -x "$server" ]]; then
  echo_cmd=("$server" --port 0 --policy none) echo_name="convoy-server --policy none"
else
  echo_cmd=("$build/tests/client/convoy-test-echo") echo_name="convoy-test-echo (blocking, thread per connection)"
fi
start_server "$work" "${echo_cmd[@]}" || die "$echo_name did not start: $(last_line "$work/server.err")"
echo_port=$SERVER_PORT

echo "== host: $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== client: $("$client" --version)"
echo "== echo server for convoy-client: $echo_name"
echo

echo "== 1. loopback floor, ${run_s} s per run, ${rounds} interleaved rounds, ${size}-byte messages (p50 RTT, us)"
for ((r = 1; r <= rounds; r++)); do
  run sockperf ping-pong -i 127.0.0.1 -p "$sp_port" --tcp --full-rtt -t "$run_s" --msg-size "$size" \
    >"$work/floor-$r-sockperf.txt" 2>&1 || true
  run "$client" -p "$echo_port" --mode closed --size "$size" -d "${run_s}s" -w 400ms \
    --json "$work/floor-$r-convoy.json" >/dev/null 2>&1 || true
  cdata bench-round "$work" "$r"
done
cdata bench-floor "$work" "$rounds"
echo

echo "== 2. open loop: $rate req/s, uniform, 4 connections, ${run_s} s after 1 s warm-up"
run "$client" -p "$echo_port" --mode open --rate "$rate" -c 4 --size "$size" -d "${run_s}s" -w 1s \
  --json "$work/open.json" --hgrm "$work/open.hgrm" >"$work/open.txt" 2>&1 || true
sed 's/^/   /' "$work/open.txt"
cdata bench-pacing "$work/open.json"
