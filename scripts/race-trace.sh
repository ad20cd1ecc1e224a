#!/usr/bin/env bash
# The connection thread's races for the lock, as the kernel saw them. Runs convoy-server with py3
# and the echo server of every CPython 3 found (scripts/lib/interpreters.sh), or with --policy py2
# convoy-server with py2 and every CPython 2, one after the other, each with one connection of
# convoy-client (closed loop, a think time between messages). While the client runs, it records
# the server threads' scheduler events and their futex, sendto and recvfrom calls with ftrace, in
# a tracing instance of its own, which it removes at the end. Then it prints per server, for py3,
# how often the connection thread lost the lock at send, how often it lost the race after the
# next recv as well (that message pays a second switch interval), how long its way from the lock
# to that recv took, and when the fib thread woke; for py2, how often the connection thread found
# the semaphore free after recv and after send, and how often the fib thread slept
# (scripts/convoy_data/race.py says how each is read). Needs root and tracefs. Everything goes
# under results/race-<time>-<suffix>/; docs/fidelity.md ("Two intervals in one round trip",
# "CPython 2.7 without think time") has what it showed.
set -euo pipefail
source "$(dirname "$0")/lib/real.sh"

usage() {
  cat <<USAGE
usage: scripts/race-trace.sh [options]      (--name value or --name=value; needs root)
  --policy P        py3 (default): CPython 3's lock against convoy's py3; py2: CPython 2.7's
                    semaphore against py2
  --interpreters L  which interpreters, as scripts/reference.sh takes them (default python3, or
                    python2 with --policy py2: every one found; "" = none)
  --interpreter LABEL=PATH   one more (repeatable)
  --server-config F convoy-server loads this config first (a fitted profile of
                    scripts/calibrate.sh, say); the options above still apply
  --no-emulated     leave out convoy-server
  --think D         the client's pause between a reply and the next message (default 0.5ms)
  --size B          bytes per message (default 100)
  --cpu-threads N   fib threads in each server (default 1)
  --switch-interval D   the switch interval of both sides (default 5ms; py3 only)
  --trace D         how long to record each server (default 1s, at most 10s)
  --server-cpus L / --client-cpus L   pin the servers / the client (CPU lists such as 0 or 0-1)
  --out DIR         results directory (default results/race-<time>-<suffix>)
  --no-build        use existing binaries
USAGE
}

interpreters="" explicit=() emulated=1 think=0.5ms size=100 cpu_threads=1 interval=5ms
trace=1s server_cpus="" client_cpus="" out="" build=1 policy=py3 server_config="" chosen=0
split_options "$@"
set -- "${OPTIONS[@]}"
while (($#)); do
  [[ "$1" != --interpreters && "$1" != --interpreters=* ]] || chosen=1
  if real_option "$@"; then shift "$TAKEN"; continue; fi
  case "$1" in
    --policy) need "$@"; policy=$2; shift 2 ;;
    --server-config) need "$@"; server_config=$2; shift 2 ;;
    --no-emulated) emulated=0; shift ;;
    --think) need "$@"; think=$2; shift 2 ;;
    --size) need "$@"; size=$2; shift 2 ;;
    --cpu-threads) need "$@"; cpu_threads=$2; shift 2 ;;
    --switch-interval) need "$@"; interval=$2; shift 2 ;;
    --trace) need "$@"; trace=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
case "$policy" in
  py3) family="CPython 3" ;;
  py2) family="CPython 2" ;;
  *) die "--policy must be py3 or py2, not '$policy'" ;;
esac
((chosen)) || interpreters=${policy/py/python}
interpreters=${interpreters//,/ }
if [[ -n "$server_config" ]]; then
  [[ -f "$server_config" && -r "$server_config" ]] || die "--server-config '$server_config' is not a readable file"
  server_config=$(cd "$(dirname "$server_config")" && pwd)/$(basename "$server_config")
fi
real=0 # whether any real interpreter is asked for
[[ -z "${interpreters// /}" && ${#explicit[@]} -eq 0 ]] || real=1
check_duration --think "$think"
check_positive_duration --switch-interval "$interval"
check_positive_duration --trace "$trace"
trace_s=$(cdata seconds "$trace")
awk -v s="$trace_s" 'BEGIN { exit !(s <= 10) }' || die "--trace must be 10s at most, not '$trace'"
check_count --size "$size"
((size >= 32)) || die "--size must be at least 32 (the message header), not '$size'"
check_count --cpu-threads "$cpu_threads"
((cpu_threads >= 1)) || die "--cpu-threads must be at least 1: the race is with a fib thread"
check_cpus --server-cpus "$server_cpus"
check_cpus --client-cpus "$client_cpus"
if ((real)); then
  check_interpreter_choice "$interpreters" ${explicit[@]+"${explicit[@]}"}
fi
((emulated || real)) || die "nothing to trace: --no-emulated and no interpreter"
SERVER_CPUS=$server_cpus CLIENT_CPUS=$client_cpus

# --- The tracing instance: a buffer and event set of its own, gone at the end.
[[ $(id -u) -eq 0 ]] || { note "needs root: ftrace is root's"; exit 1; }
tracefs=/sys/kernel/tracing
mounted_here=0
if [[ ! -d "$tracefs/instances" ]]; then
  [[ -d "$tracefs" ]] && mount -t tracefs nodev "$tracefs" 2>/dev/null && mounted_here=1
  [[ -d "$tracefs/instances" ]] || { note "no tracefs at $tracefs: this kernel cannot be traced"; exit 1; }
fi
instance="$tracefs/instances/convoy-race-$$"
remove_instance() {
  if [[ -d "$instance" ]]; then
    echo 0 >"$instance/tracing_on" 2>/dev/null || true
    : >"$instance/set_event" 2>/dev/null || true
    rmdir "$instance" 2>/dev/null || note "could not remove the tracing instance $instance"
  fi
  if ((mounted_here)); then umount "$tracefs" 2>/dev/null || true; fi
}
on_exit remove_instance
mkdir "$instance" || { note "could not make a tracing instance under $tracefs/instances"; exit 1; }
events=(sched:sched_switch sched:sched_wakeup syscalls:sys_enter_futex syscalls:sys_exit_futex
  syscalls:sys_enter_sendto syscalls:sys_exit_sendto syscalls:sys_enter_recvfrom syscalls:sys_exit_recvfrom)
for e in "${events[@]}"; do
  echo "$e" >>"$instance/set_event" 2>/dev/null || { note "this kernel has no trace event $e"; exit 1; }
done
echo 0 >"$instance/tracing_on"
echo $((4096 + 4096 * ${trace_s%.*})) >"$instance/buffer_size_kb"

if ((build)); then build_release; else find_binaries || die "no binaries found; build them or drop --no-build"; fi
INTERP_LABEL=()
if ((real)); then
  find_interpreters "$interpreters" ${explicit[@]+"${explicit[@]}"}
fi
out=${out:-$(new_results_dir race)}
mkdir -p "$out/points"

# The client runs through a warm-up, a second to settle, the traced stretch and a margin.
client_s=$(cdata seconds 0.5s 1s "$trace" 1s)
order=0

# trace_server NAME KIND CMD... — one server: started, talked to, traced, stopped.
trace_server() {
  local name=$1 kind=$2
  shift 2
  order=$((order + 1))
  local dir="$out/points/$kind-$name"
  mkdir -p "$dir"
  cdata params "$dir" "name=$name" "kind=$kind" "order=$order" "policy=$policy" "think=$think" "size=$size" \
    "cpu_threads=$cpu_threads" "switch_interval=$interval" "trace=$trace" \
    "server_cpus=${SERVER_CPUS:-any}" "client_cpus=${CLIENT_CPUS:-any}"
  cat /proc/loadavg >"$dir/loadavg-before"
  printf 'race-trace: %-16s ... ' "$name" >&2
  if ! start_server "$dir" "$@"; then
    echo "did not start: $(last_line "$dir/server.err")" >&2
    return 0
  fi
  local client=("$CLIENT_BIN" --port "$SERVER_PORT" --mode closed --connections 1 --size "$size"
    --think "$think" --duration "${client_s}s" --warmup 0.5s --timeout 5s --json "$dir/client.json")
  [[ -z "${CLIENT_CPUS:-}" ]] || client=(taskset -c "$CLIENT_CPUS" "${client[@]}")
  spawn "${client[@]}" >"$dir/client.out" 2>"$dir/client.err"
  local client_pid=$SPAWNED tid
  sleep 1.5
  if ! ls "/proc/$SERVER_PID/task" >"$dir/tids" 2>/dev/null; then
    echo "the server ended before the trace: $(last_line "$dir/server.err")" >&2
    stop_pid "$client_pid" || true
    return 0
  fi
  tr '\n' ' ' <"$dir/tids" >"$instance/set_event_pid"
  : >"$instance/trace"
  echo 1 >"$instance/tracing_on"
  sleep "$trace_s"
  echo 0 >"$instance/tracing_on"
  cp "$instance/trace" "$dir/trace.txt"
  : >"$dir/threads.tsv"
  for tid in "/proc/$SERVER_PID/task"/*; do
    awk -v t="${tid##*/}" '{ sub(/^.*\) /, ""); print t "\t" $12 + $13 }' "$tid/stat" \
      >>"$dir/threads.tsv" 2>/dev/null || true
  done
  local crc=0
  wait "$client_pid" || crc=$?
  forget "$client_pid"
  stop_pid "$SERVER_PID" || true
  SERVER_PID=""
  if ((crc != 0)); then echo "the client failed: $(last_line "$dir/client.err")" >&2; else echo "traced" >&2; fi
}

if ((emulated)); then
  server=("$SERVER_BIN")
  [[ -z "$server_config" ]] || server+=(--config "$server_config")
  server+=(--port 0 --policy "$policy" --cpu-threads "$cpu_threads")
  [[ $policy != py3 ]] || server+=(--switch-interval "$interval")
  trace_server "$policy" emulated "${server[@]}"
fi
for i in "${!INTERP_LABEL[@]}"; do
  if [[ "${INTERP_FAMILY[$i]}" != "$family" ]]; then
    note "${INTERP_LABEL[$i]}: ${INTERP_FAMILY[$i]} is not a $family, skipped"
    continue
  fi
  real_server=("${INTERP_PATH[$i]}" "$CONVOY_ROOT/scripts/reference/echo_server.py" --port 0
    --cpu-threads "$cpu_threads")
  [[ $policy != py3 ]] || real_server+=(--switch-interval "$(cdata seconds "$interval")")
  trace_server "${INTERP_LABEL[$i]}" real "${real_server[@]}"
done

echo
cdata race "$out" | tee "$out/table.txt"
echo
echo "results: $out (table: $out/table.txt, CSV: $out/race.csv)"
