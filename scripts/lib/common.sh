# shellcheck shell=bash
# Shell functions shared by the scripts. Source it; do not run it.
# Bash does the processes (start, pin, time out, stop by PID); the data (point files, tables,
# CSVs, plots) is done by the Python package scripts/convoy_data, called as `cdata COMMAND`.
# Sourcing this installs the traps: whatever a script starts with spawn or run is stopped, by
# PID, when the script ends, on error, and on INT, TERM and HUP (exit status 128 + signal).

CONVOY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONVOY_BUILD_DIR=${CONVOY_BUILD_DIR:-$CONVOY_ROOT/build/release}

die() { echo "$(basename "$0"): $*" >&2; exit 2; }
note() { echo "$(basename "$0"): $*" >&2; }
cdata() { CONVOY_DATA_PROG=$(basename "$0") "$CONVOY_ROOT/scripts/convoy-data" "$@"; }

# --- Options: --name value and --name=value alike; everything checked before anything starts.

# split_options "$@" — OPTIONS: the arguments with each --name=value split into --name value.
split_options() {
  OPTIONS=()
  local a
  for a in "$@"; do
    if [[ "$a" == --*=* ]]; then OPTIONS+=("${a%%=*}" "${a#*=}"); else OPTIONS+=("$a"); fi
  done
}
# need "$@" — in an option loop: dies unless the option ($1) has a value after it.
need() { [[ $# -ge 2 ]] || die "$1 needs a value"; }
unknown_option() { die "unknown option '$1' (see --help)"; }

# The duration syntax convoy-server and convoy-client share (as convoy_data.units reads it).
check_duration() {
  [[ "$2" == 0 || "$2" =~ ^[0-9]+(\.[0-9]+)?(ns|us|ms|s|m)$ ]] ||
    die "$1: '$2' is not a duration (a number and a unit: 500us, 2ms, 1.5s, 2m; or 0)"
}
# check_positive_duration NAME VALUE — a duration that is more than zero (a run's length).
check_positive_duration() {
  check_duration "$1" "$2"
  [[ ! "$2" =~ ^0+(\.0+)?(ns|us|ms|s|m)?$ ]] || die "$1 must be more than zero, not '$2'"
}
check_count() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 must be a whole number, not '$2'"; }
check_cpus() {
  [[ -z "$2" || "$2" =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] ||
    die "$1: '$2' is not a CPU list (such as 0, 0-2 or 1,3)"
}

# --- Processes: every one started here is tracked until it is stopped.

CONVOY_PIDS=()    # started and not yet stopped
CONVOY_ON_EXIT=() # functions run at the end, after those processes are stopped; last added first

# spawn CMD... — starts CMD in the background and tracks it; its PID in SPAWNED. (CMD is run
# directly, so the PID is CMD's own; taskset and timeout exec or signal what they run.)
spawn() {
  "$@" &
  SPAWNED=$!
  CONVOY_PIDS+=("$SPAWNED")
}
forget() {
  local i
  for i in "${!CONVOY_PIDS[@]}"; do [[ "${CONVOY_PIDS[i]}" != "$1" ]] || unset 'CONVOY_PIDS[i]'; done
}
# run CMD... — CMD in the background, waited for: bash runs a trap only between foreground
# commands, so a signal would otherwise wait for a whole build or client run. Returns its status.
run() {
  local rc=0 pid
  spawn "$@"
  pid=$SPAWNED
  wait "$pid" || rc=$?
  forget "$pid"
  return "$rc"
}
# stop_pid PID [GRACE_S] — SIGTERM, GRACE_S (5) seconds to exit, then SIGKILL. Returns its status.
stop_pid() {
  local pid=$1 grace=${2:-5} i rc=0
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || rc=$?
  forget "$pid"
  return "$rc"
}
on_exit() { CONVOY_ON_EXIT+=("$1"); }

_finish() {
  local rc=$? pid i
  trap - EXIT
  trap '' INT TERM HUP # a second Ctrl-C must not cut the clean-up short; every step is bounded
  for pid in "${CONVOY_PIDS[@]}"; do stop_pid "$pid" || true; done
  for ((i = ${#CONVOY_ON_EXIT[@]} - 1; i >= 0; i--)); do "${CONVOY_ON_EXIT[i]}" || true; done
  exit "$rc"
}
_on_signal() {
  note "stopped by SIG$1"
  exit $((128 + $2))
}
trap _finish EXIT
trap '_on_signal INT 2' INT
trap '_on_signal TERM 15' TERM
trap '_on_signal HUP 1' HUP

# The last non-empty line of a file, for one-line error messages.
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1; }

# new_results_dir NAME — a fresh results/NAME-<UTC time>-XXXXXX (two runs never share one).
new_results_dir() {
  mkdir -p "$CONVOY_ROOT/results"
  mktemp -d "$CONVOY_ROOT/results/$1-$(date -u +%Y%m%dT%H%M%SZ)-XXXXXX"
}

# --- The programs.

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
  local log="$CONVOY_ROOT/build/release-build.log"
  mkdir -p "$CONVOY_ROOT/build"
  if [[ ! -f "$CONVOY_BUILD_DIR/build.ninja" ]]; then
    run env -C "$CONVOY_ROOT" cmake --preset release >"$log" 2>&1 || build_failed "$log"
  fi
  run cmake --build "$CONVOY_BUILD_DIR" --target convoy-server convoy-client >>"$log" 2>&1 ||
    build_failed "$log"
  find_binaries || die "built, but convoy-server/convoy-client are not in $CONVOY_BUILD_DIR"
}

build_failed() {
  tail -n 15 "$1" >&2
  die "the release build failed (the whole log: ${1/#$CONVOY_ROOT\//})"
}

# list_policies SERVER_BIN [--json] — what the server says its policies are.
list_policies() { timeout 20 "$@" --list-policies 2>/dev/null; }

# lists_policies SERVER_BIN — true when SERVER_BIN is there and lists its policies.
lists_policies() { [[ -x "$1" && -n "$(list_policies "$1")" ]]; }

# check_policies SERVER_BIN NAMES... — dies on a name ("all" = every policy) SERVER_BIN does not
# list. Returns 1 when SERVER_BIN is missing or cannot list its policies (there is nothing to ask).
check_policies() {
  local bin=$1 known=() name
  shift
  [[ -x "$bin" ]] || return 1
  mapfile -t known < <(list_policies "$bin" | while IFS=$'\t' read -r name _; do echo "$name"; done)
  ((${#known[@]})) || return 1
  for name; do
    [[ "$name" == all || " ${known[*]} " == *" $name "* ]] ||
      die "unknown policy '$name' (${bin/#$CONVOY_ROOT\//} lists: ${known[*]}; if you added it, build it first)"
  done
}
