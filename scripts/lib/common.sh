# Shell functions shared by demo.sh, sweep.sh and reference.sh. Source it; do not run it.
# Every wait is bounded: a server that never says it is ready, a client that never ends and a
# server that ignores SIGTERM are all cut off and reported.

CONVOY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONVOY_BUILD_DIR=${CONVOY_BUILD_DIR:-$CONVOY_ROOT/build/release}

die() { echo "$(basename "$0"): $*" >&2; exit 2; }
note() { echo "$(basename "$0"): $*" >&2; }

# Finds convoy-server and convoy-client: $CONVOY_SERVER_BIN and $CONVOY_CLIENT_BIN, else both in
# $CONVOY_BIN_DIR, else the build directory ($CONVOY_BUILD_DIR, default build/release), else PATH.
find_binaries() {
  if [[ -n "${CONVOY_SERVER_BIN:-}${CONVOY_CLIENT_BIN:-}" ]]; then
    SERVER_BIN=${CONVOY_SERVER_BIN:-} CLIENT_BIN=${CONVOY_CLIENT_BIN:-}
  elif [[ -n "${CONVOY_BIN_DIR:-}" ]]; then
    SERVER_BIN="$CONVOY_BIN_DIR/convoy-server" CLIENT_BIN="$CONVOY_BIN_DIR/convoy-client"
  elif [[ -x "$CONVOY_BUILD_DIR/server/convoy-server" ]]; then
    SERVER_BIN="$CONVOY_BUILD_DIR/server/convoy-server" CLIENT_BIN="$CONVOY_BUILD_DIR/client/convoy-client"
  else
    SERVER_BIN=$(command -v convoy-server || true) CLIENT_BIN=$(command -v convoy-client || true)
  fi
  [[ -x "$SERVER_BIN" && -x "$CLIENT_BIN" ]]
}

# Builds the release binaries (quietly) unless CONVOY_BIN_DIR or CONVOY_*_BIN point at ready ones.
build_release() {
  if [[ -n "${CONVOY_BIN_DIR:-}${CONVOY_SERVER_BIN:-}${CONVOY_CLIENT_BIN:-}" ]]; then
    find_binaries || die "convoy-server/convoy-client not found where CONVOY_BIN_DIR or CONVOY_*_BIN say"
    return
  fi
  (cd "$CONVOY_ROOT" &&
    { [[ -f "$CONVOY_BUILD_DIR/build.ninja" ]] || cmake --preset release >/dev/null; } &&
    cmake --build "$CONVOY_BUILD_DIR" --target convoy-server convoy-client >/dev/null) ||
    die "the release build failed (run: cmake --preset release && cmake --build build/release)"
  find_binaries || die "built, but convoy-server/convoy-client are not in $CONVOY_BUILD_DIR"
}

# start_process LOGDIR CPUS CMD... — starts a server in the background and waits for its ready
# line (`listening HOST:PORT` on stdout). Sets SERVER_PID and SERVER_PORT. Returns 1 (its
# messages in LOGDIR/server.err) when it exits or stays silent for 15 s.
start_process() {
  local logdir=$1 cpus=$2
  shift 2
  local ready="$logdir/server.out" cmd=("$@")
  : >"$ready"
  [[ -n "$cpus" ]] && cmd=(taskset -c "$cpus" "${cmd[@]}")
  # Started directly (not through a function) so that $! is the server itself: taskset execs it.
  "${cmd[@]}" >"$ready" 2>"$logdir/server.err" &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    if grep -q '^listening ' "$ready" 2>/dev/null; then
      SERVER_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$ready" | head -n 1)
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  return 1
}

# stop_pid PID — SIGTERM, up to 5 s to exit, then SIGKILL. Returns the process's exit status.
stop_pid() {
  local pid=$1 i
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

# The last non-empty line of a file, for one-line error messages.
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1; }

# seconds DURATION — "3s", "500ms", "2m" or a bare number of seconds, as a decimal number.
seconds() {
  awk -v d="$1" 'BEGIN {
    if (match(d, /^[0-9.]+/)) { v = substr(d, 1, RLENGTH); u = substr(d, RLENGTH + 1) } else exit 1
    f = (u == "" || u == "s") ? 1 : (u == "ms") ? 0.001 : (u == "us") ? 0.000001 : (u == "m") ? 60 : -1
    if (f < 0) exit 1
    printf "%g\n", v * f
  }' || die "not a duration: '$1'"
}

# run_point DIR PARAMS_JSON SERVER_CPUS CLIENT_CPUS SERVER_ARGS_VAR CLIENT_ARGS_VAR
# One measurement: a fresh convoy-server on port 0 with the arguments in the array named
# SERVER_ARGS_VAR, convoy-client against it with those in CLIENT_ARGS_VAR, the server stopped.
# Writes DIR/point.json = {point: PARAMS, status: ok|failed, error, server: <stats>, client:
# <results>} whatever happens; returns 0 for ok, 1 for failed.
run_point() {
  local dir=$1 params=$2 scpus=$3 ccpus=$4
  local -n _sargs=$5
  mkdir -p "$dir"
  local _cmd=("$SERVER_BIN" --port 0 --stats "$dir/server.json" "${_sargs[@]}")
  POINT_STATS="$dir/server.json" run_command_point "$dir" "$params" "$scpus" "$ccpus" _cmd "$6"
}

# run_command_point DIR PARAMS_JSON SERVER_CPUS CLIENT_CPUS SERVER_CMD_VAR CLIENT_ARGS_VAR
# As run_point, for any echo server command that prints the ready line (the real interpreters).
# POINT_STATS names the stats file the server must write, if any. CLIENT_TIMEOUT (seconds,
# default 120) bounds the client.
run_command_point() {
  local dir=$1 params=$2 scpus=$3 ccpus=$4
  local -n _scmd=$5 _cargs=$6
  mkdir -p "$dir"
  rm -f "$dir/server.json" "$dir/client.json" "$dir/client.hgrm"
  local status=ok error=""
  if ! start_process "$dir" "$scpus" "${_scmd[@]}"; then
    status=failed
    error="server did not start: $(last_line "$dir/server.err")"
  else
    local cmd=("$CLIENT_BIN" --port "$SERVER_PORT" --json "$dir/client.json" --hgrm "$dir/client.hgrm"
      "${_cargs[@]}")
    [[ -n "$ccpus" ]] && cmd=(taskset -c "$ccpus" "${cmd[@]}")
    local crc=0 src=0
    timeout --kill-after=5 "${CLIENT_TIMEOUT:-120}" "${cmd[@]}" >"$dir/client.out" 2>"$dir/client.err" || crc=$?
    stop_pid "$SERVER_PID" || src=$?
    SERVER_PID=
    if ((crc == 124 || crc == 137)); then
      status=failed error="client did not finish within ${CLIENT_TIMEOUT:-120} s"
    elif ((crc != 0)); then
      status=failed error="client exit $crc: $(last_line "$dir/client.err")"
    elif ((src != 0)); then
      status=failed error="server exit $src: $(last_line "$dir/server.err")"
    elif [[ -n "${POINT_STATS:-}" ]] && ! jq -e .fib "$POINT_STATS" >/dev/null 2>&1; then
      status=failed error="server wrote no valid stats file"
    fi
  fi
  write_point_json "$dir" "$params" "$status" "$error"
  [[ "$status" == ok ]]
}

# write_point_json DIR PARAMS_JSON STATUS ERROR — DIR/point.json = {point, status, error, server,
# client}, the last two from DIR/server.json and DIR/client.json when they hold valid JSON.
write_point_json() {
  local dir=$1 params=$2 status=$3 error=$4
  local server=/dev/null client=/dev/null
  jq -e . "$dir/server.json" >/dev/null 2>&1 && server="$dir/server.json"
  jq -e . "$dir/client.json" >/dev/null 2>&1 && client="$dir/client.json"
  jq -n --argjson point "$params" --arg status "$status" --arg error "$error" \
    --slurpfile server "$server" --slurpfile client "$client" \
    '{point: $point, status: $status, error: (if $error == "" then null else $error end),
      server: ($server[0] // null), client: ($client[0] // null)}' >"$dir/point.json.tmp"
  mv "$dir/point.json.tmp" "$dir/point.json"
}

# The summary of one point.json as a JSON object: the numbers tables and CSVs are made of.
summary_filter='
  def r(x): if x == null then null else (x * 1000 | round) / 1000 end;
  {status, error,
   p50_us: r(.client.results.latency.p50_us), p90_us: r(.client.results.latency.p90_us),
   p99_us: r(.client.results.latency.p99_us), p999_us: r(.client.results.latency.p99_9_us),
   max_us: r(.client.results.latency.max_us), mean_us: r(.client.results.latency.mean_us),
   count: .client.results.latency.count,
   requests_per_s: r(.client.results.achieved_rate),
   fib_calls_per_s: r(.server.fib.calls_per_s),
   switches_per_s: (if .server.run.duration_s > 0
                    then r(.server.lock.stats.total.holder_switches / .server.run.duration_s)
                    else null end),
   drop_requests: .server.lock.stats.total.drop_requests,
   futile_wakeups: .server.lock.stats.total.futile_wakeups}'

# summarize_policies OUT — OUT/summary.json from every OUT/<policy>/point.json (with the machine
# context), and the side-by-side table of the policies on stdout.
summarize_policies() {
  local out=$1
  jq -s "{context: (map(.client.context // empty) | first), points: map({policy: .point.policy} + ($summary_filter))}" \
    "$out"/*/point.json >"$out/summary.json"
  printf '%-7s %10s %10s %10s %10s %12s %14s %14s\n' policy "p50 ms" "p90 ms" "p99 ms" "max ms" \
    "requests/s" "fib calls/s" "switches/s"
  jq -r '.points[] | [.policy, .p50_us, .p90_us, .p99_us, .max_us, .requests_per_s,
         .fib_calls_per_s, .switches_per_s, .status] | @tsv' "$out/summary.json" |
    while IFS=$'\t' read -r policy p50 p90 p99 max rps fib sw status; do
      if [[ "$status" != ok ]]; then
        printf '%-7s %s\n' "$policy" "failed (see $out/$policy/point.json)"
        continue
      fi
      awk -v p="$policy" -v a="$p50" -v b="$p90" -v c="$p99" -v d="$max" -v r="$rps" -v f="$fib" -v s="$sw" \
        'BEGIN { printf "%-7s %10.3f %10.3f %10.3f %10.3f %12.0f %14.0f %14.0f\n", p, a/1000, b/1000, c/1000, d/1000, r, f, s }'
    done
}
