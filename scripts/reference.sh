#!/usr/bin/env bash
# The same client against real interpreters: a threaded echo server with N fib threads written
# in Python (run by every Python found) and in Ruby, next to convoy-server with the policy that
# emulates it (the one whose `emulates` in convoy-server --list-policies names the interpreter's
# family: CPython 2, CPython 3, free-threaded, PyPy, Ruby; a Ruby before 3.3 is emulated with
# --gvl-timer waiter, its GVL of 2.6-3.2). Interpreters are found on PATH and in
# pyenv, rbenv, asdf, uv and conda (scripts/lib/interpreters.sh), or named with --interpreter.
# Prints real and emulated percentiles side by side and writes everything under
# results/reference-<time>-<suffix>/. With --io-model eventloop, every Python 3 runs an asyncio
# echo server instead, next to convoy-server --io-model eventloop.
set -euo pipefail
source "$(dirname "$0")/lib/real.sh"

usage() {
  cat <<USAGE
usage: scripts/reference.sh [options]       (--name value or --name=value)
  --interpreters L  which of the interpreters found to measure (default all): all, python (every
                    CPython), python2, python3, pypy, pypy3, ruby, or a version label or its
                    prefix (python3.11, python3.13.0t, pypy3.9); several, separated by , or space
  --interpreter LABEL=PATH   measure the interpreter at PATH as LABEL (repeatable); given alone,
                    only these are measured
  --list            print the interpreters found (label, version, path, emulating policy) and exit
  --io-model M      threads (default) or eventloop: an asyncio echo server under each Python 3,
                    beside convoy-server --io-model eventloop
  --switch-interval D   sys.setswitchinterval in every Python 3 (PyPy too) and --switch-interval
                    in convoy-server, --pypy-check-interval D*2000000 for pypy, as PyPy's
                    setswitchinterval sets its check interval (default: each side's own, 5ms)
  --check-interval N    sys.setcheckinterval in every Python 2 and --check-interval in
                    convoy-server (default: each side's own, 100)
  --duration D      measured time per run (default 4s)
  --cpu-threads N   fib threads in each server (default 1)
  --fib-depth N     depth of the real fib threads (default 20)
  --think D         client think time (default 2ms)
  --server-cpus L / --client-cpus L   pin servers / the client (CPU lists such as 0 or 0-2)
  --out DIR         results directory (default results/reference-<time>-<suffix>)
  --no-build        use existing binaries
USAGE
}

interpreters="" explicit=() list_only=0 duration=4s cpu_threads=1 fib_depth=20 think=2ms
server_cpus="" client_cpus="" out="" build=1 io_model=threads switch_interval="" check_interval=""
split_options "$@"
set -- "${OPTIONS[@]}"
while (($#)); do
  if real_option "$@"; then shift "$TAKEN"; continue; fi
  case "$1" in
    --list) list_only=1; shift ;;
    --switch-interval) need "$@"; switch_interval=$2; shift 2 ;;
    --check-interval) need "$@"; check_interval=$2; shift 2 ;;
    --duration) need "$@"; duration=$2; shift 2 ;;
    --cpu-threads) need "$@"; cpu_threads=$2; shift 2 ;;
    --fib-depth) need "$@"; fib_depth=$2; shift 2 ;;
    --think) need "$@"; think=$2; shift 2 ;;
    --io-model) need "$@"; io_model=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
interpreters=${interpreters//,/ }
# --interpreter alone measures just those; otherwise every interpreter found that a selector picks.
if [[ -z "${interpreters// /}" ]]; then
  ((${#explicit[@]} > 0)) || interpreters=all
fi
check_interpreter_choice "$interpreters" ${explicit[@]+"${explicit[@]}"}
check_positive_duration --duration "$duration"
check_duration --think "$think"
[[ -z "$switch_interval" ]] || check_duration --switch-interval "$switch_interval"
[[ -z "$check_interval" ]] || check_count --check-interval "$check_interval"
[[ -z "$check_interval" || "$check_interval" -gt 0 ]] || die "--check-interval must be at least 1"
check_count --cpu-threads "$cpu_threads"
check_count --fib-depth "$fib_depth"
check_cpus --server-cpus "$server_cpus"
[[ "$io_model" == threads || "$io_model" == eventloop ]] || die "--io-model must be threads or eventloop, not '$io_model'"
check_cpus --client-cpus "$client_cpus"
SERVER_CPUS=$server_cpus CLIENT_CPUS=$client_cpus

if ((build)); then build_release; else find_binaries || die "no binaries found; build them or drop --no-build"; fi
policies_json=$(list_policies "$SERVER_BIN" --json) || die "$SERVER_BIN cannot list its policies"
find_interpreters "$interpreters" ${explicit[@]+"${explicit[@]}"}
((${#INTERP_LABEL[@]} > 0)) || die "no interpreter found that '${interpreters:-${explicit[*]}}' picks (see --list)"

# The policy that emulates an interpreter family, or nothing.
emulating_policy() {
  local family=$1
  [[ "$family" != "CPython free-threaded" ]] || family=free-threaded
  cdata emulating <(printf '%s\n' "$policies_json") "$family" || true
}

# emulated KEY POLICY [ARGS...] — convoy-server with POLICY (and ARGS) once per run, beside the
# first interpreter it emulates; its point is points/emulated-KEY.
emulated() {
  local key=$1 policy=$2
  shift 2
  local dir="$out/points/emulated-$key"
  [[ ! -f "$dir/point.json" ]] || return 0
  cdata params "$dir" kind=emulated "policy=$policy" "cpu_threads=$cpu_threads" "io_model=$io_model" \
    "policy_args=$*"
  # shellcheck disable=SC2034 # passed by name
  local server_cmd=("$SERVER_BIN" --port 0 --stats "$dir/server.json" --policy "$policy" --cpu-threads "$cpu_threads"
    --io-model "$io_model" ${switch_interval:+--switch-interval "$switch_interval"}
    ${check_interval:+--check-interval "$check_interval"} "$@")
  printf 'reference: convoy %-8s ... ' "$key" >&2
  measure_local "$dir" "$timeout" server_cmd client_args >&2 || true
}

# version_before A B: whether version A (digits and dots) is older than B.
version_before() {
  [[ "$1" != "$2" && "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" == "$1" ]]
}

# The emulation's knobs that follow from the real interpreter: Ruby before 3.3 has no timer
# thread (gvl-timer waiter: one waiter's timed wait of a quantum, Ruby 2.6-3.2); PyPy's
# sys.setswitchinterval(x) sets its check interval to x * 2 000 000 ticks. Sets EMULATION_KEY
# (the point's name: the policy, with the variant) and EMULATION_ARGS.
emulation_of() {
  local family=$1 version=$2 policy=$3
  EMULATION_KEY=$policy EMULATION_ARGS=()
  if [[ "$family" == Ruby ]] && version_before "${version##* }" 3.3; then
    EMULATION_KEY=$policy:waiter EMULATION_ARGS+=(--gvl-timer waiter)
  fi
  if [[ "$family" == PyPy && -n "$switch_interval" ]]; then
    local ticks
    ticks=$(awk -v s="$(cdata seconds "$switch_interval")" 'BEGIN { t = int(s * 2000000); print (t < 1 ? 1 : t) }')
    EMULATION_KEY=$policy EMULATION_ARGS+=(--pypy-check-interval "$ticks")
  fi
}

if ((list_only)); then
  printf 'label\tversion\tpath\temulated by\n'
  for i in "${!INTERP_LABEL[@]}"; do
    policy=$(emulating_policy "${INTERP_FAMILY[$i]}") EMULATION_KEY=""
    [[ -z "$policy" ]] || emulation_of "${INTERP_FAMILY[$i]}" "${INTERP_VERSION[$i]}" "$policy"
    printf '%s\t%s\t%s\t%s\n' "${INTERP_LABEL[$i]}" "${INTERP_VERSION[$i]}" "${INTERP_PATH[$i]}" "$EMULATION_KEY"
  done
  exit 0
fi

out=${out:-$(new_results_dir reference)}
mkdir -p "$out/points"
printf '%s\n' "$policies_json" >"$out/policies.json"
timeout=$(cdata seconds --ceil "$duration" 40s)
# shellcheck disable=SC2034 # passed by name
client_args=(--mode closed --size 100 --think "$think" --duration "$duration" --warmup 0.5s
  --timeout 3s --connections 1)

order=0
for i in "${!INTERP_LABEL[@]}"; do
  interp=${INTERP_LABEL[$i]} exe=${INTERP_PATH[$i]} family=${INTERP_FAMILY[$i]} version=${INTERP_VERSION[$i]}
  script=echo_server.py
  [[ "$family" != Ruby ]] || script=echo_server.rb
  if [[ "$io_model" == eventloop ]]; then
    # asyncio's event loop, in every Python 3; the others have no twin of this model.
    if [[ "$family" == Ruby || "$family" == "CPython 2" ]]; then
      note "$interp: no asyncio echo server for --io-model eventloop, skipped"
      continue
    fi
    script=echo_asyncio.py
  fi
  # The intervals go to the interpreters that have them: sys.setswitchinterval from 3.2 on (and
  # PyPy 3), sys.setcheckinterval in 2.x.
  real_args=()
  if [[ -n "$switch_interval" && "$family" != Ruby && "$family" != "CPython 2" ]]; then
    real_args+=(--switch-interval "$(cdata seconds "$switch_interval")")
  fi
  [[ -z "$check_interval" || "$family" != "CPython 2" ]] || real_args+=(--check-interval "$check_interval")
  policy=$(emulating_policy "$family")
  EMULATION_KEY="" EMULATION_ARGS=()
  [[ -z "$policy" ]] || emulation_of "$family" "$version" "$policy"
  order=$((order + 1))
  dir="$out/points/real-$interp"
  cdata params "$dir" kind=real "interpreter=$interp" "version=$version" "path=$exe" \
    "cpu_threads=$cpu_threads" "order=$order" "emulated_by=$EMULATION_KEY" "io_model=$io_model"
  # shellcheck disable=SC2034 # passed by name
  server_cmd=("$exe" "$CONVOY_ROOT/scripts/reference/$script" --port 0 --cpu-threads "$cpu_threads"
    --fib-depth "$fib_depth" ${real_args[@]+"${real_args[@]}"})
  printf 'reference: %-14s (%s) ... ' "$interp" "$version" >&2
  measure_local "$dir" "$timeout" server_cmd client_args --no-stats >&2 || true
  [[ -z "$policy" ]] || emulated "$EMULATION_KEY" "$policy" ${EMULATION_ARGS[@]+"${EMULATION_ARGS[@]}"}
done
((order > 0)) || die "none of the interpreters found can run this model (--io-model $io_model)"

echo
cdata reference "$out"
echo
echo "results: $out (table: $out/table.tsv)"
