#!/usr/bin/env bash
# The classic blog experiment, reproduced: a threaded echo server beside one thread computing
# fib, and a client sending 1000 messages of 100 bytes one at a time (no think time) and timing
# the lot. Runs it against convoy-server with none, py2 and py3 and against every Python found
# on this machine (scripts/lib/interpreters.sh), then prints "done in X s" per row beside the
# blog's figures (10.14 s Python 3, 2.21 s Python 2) and why this machine's numbers differ.
# Everything goes under results/seed-<time>-<suffix>/.
set -euo pipefail
source "$(dirname "$0")/lib/real.sh"

usage() {
  cat <<USAGE
usage: scripts/seed-experiment.sh [options]      (--name value or --name=value)
  --messages N      messages the client sends, one at a time (default 1000)
  --size B          bytes per message (default 100)
  --cpu-threads N   fib threads in each server (default 1)
  --fib-depth N     depth of the real servers' fib (default 20)
  --policies L      emulated policies (default "none py2 py3"; all = every policy; "" = none)
  --interpreters L  real interpreters, as scripts/reference.sh takes them (default "python pypy",
                    every Python found; "" = none)
  --interpreter LABEL=PATH   one more real interpreter (repeatable)
  --server-cpus L / --client-cpus L   pin the servers / the client (CPU lists such as 0 or 0-1)
  --out DIR         results directory (default results/seed-<time>-<suffix>)
  --no-build        use existing binaries
USAGE
}

messages=1000 size=100 cpu_threads=1 fib_depth=20 policies="none py2 py3" interpreters="python pypy"
explicit=() server_cpus="" client_cpus="" out="" build=1
split_options "$@"
set -- "${OPTIONS[@]}"
while (($#)); do
  if real_option "$@"; then shift "$TAKEN"; continue; fi
  case "$1" in
    --messages) need "$@"; messages=$2; shift 2 ;;
    --size) need "$@"; size=$2; shift 2 ;;
    --cpu-threads) need "$@"; cpu_threads=$2; shift 2 ;;
    --fib-depth) need "$@"; fib_depth=$2; shift 2 ;;
    --policies) need "$@"; policies=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
check_count --messages "$messages"
((messages > 0)) || die "--messages must be at least 1"
check_count --size "$size"
((size > 0)) || die "--size must be at least 1"
check_count --cpu-threads "$cpu_threads"
check_count --fib-depth "$fib_depth"
check_cpus --server-cpus "$server_cpus"
check_cpus --client-cpus "$client_cpus"
policies=${policies//,/ } interpreters=${interpreters//,/ }
check_interpreter_choice "$interpreters" ${explicit[@]+"${explicit[@]}"}
if [[ -n "${policies// /}" ]] && lists_policies "${CONVOY_SERVER_BIN:-}"; then
  check_policies "$CONVOY_SERVER_BIN" $policies
fi
SERVER_CPUS=$server_cpus CLIENT_CPUS=$client_cpus

if ((build)); then build_release; else find_binaries || die "no binaries found; build them or drop --no-build"; fi
policies_json=$(list_policies "$SERVER_BIN" --json) || die "$SERVER_BIN cannot list its policies"
[[ "$policies" != all ]] || policies=$(list_policies "$SERVER_BIN" | cut -f1 | tr '\n' ' ')
[[ -z "${policies// /}" ]] || check_policies "$SERVER_BIN" $policies
INTERP_LABEL=()
if [[ -n "${interpreters// /}" || ${#explicit[@]} -gt 0 ]]; then
  find_interpreters "$interpreters" ${explicit[@]+"${explicit[@]}"}
fi
((${#INTERP_LABEL[@]} + $(wc -w <<<"$policies") > 0)) || die "nothing to run: no policy and no interpreter found"

out=${out:-$(new_results_dir seed)}
mkdir -p "$out/points"
printf '%s\n' "$policies_json" >"$out/policies.json"
# At worst three switch intervals a message, and the start-up.
timeout=$((messages * 15 / 1000 + 30))
# shellcheck disable=SC2034 # passed by name
client_args=(--mode closed --size "$size" --think 0 --count "$messages" --warmup 0 --timeout 5s
  --connections 1)

order=0
# row NAME KIND FAMILY CMD... — one run of the experiment against the server CMD starts.
row() {
  local name=$1 kind=$2 family=$3 stats=()
  shift 3
  order=$((order + 1))
  local dir="$out/points/$kind-$name"
  cdata params "$dir" "name=$name" "kind=$kind" "family=$family" "order=$order" \
    "messages=$messages" "size=$size" "cpu_threads=$cpu_threads"
  # shellcheck disable=SC2034 # passed by name
  local server_cmd=("$@")
  [[ "$kind" == emulated ]] || stats=(--no-stats)
  [[ "$kind" != emulated ]] || server_cmd+=(--stats "$dir/server.json")
  printf 'seed: %-16s ... ' "$name" >&2
  measure_local "$dir" "$timeout" server_cmd client_args ${stats[@]+"${stats[@]}"} >&2 || true
}

for policy in $policies; do
  family=$(cdata policy-family <(printf '%s\n' "$policies_json") "$policy" || true)
  row "$policy" emulated "$family" "$SERVER_BIN" --port 0 --policy "$policy" --cpu-threads "$cpu_threads"
done
for i in "${!INTERP_LABEL[@]}"; do
  [[ "${INTERP_FAMILY[$i]}" != Ruby ]] || continue
  row "${INTERP_LABEL[$i]}" real "${INTERP_FAMILY[$i]}" "${INTERP_PATH[$i]}" \
    "$CONVOY_ROOT/scripts/reference/echo_server.py" --port 0 --cpu-threads "$cpu_threads" --fib-depth "$fib_depth"
done

echo
cdata seed "$out" --messages "$messages" | tee "$out/table.txt"
echo
echo "results: $out (table: $out/table.txt)"
