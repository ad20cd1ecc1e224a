#!/usr/bin/env bash
# The same client against real interpreters: a threaded echo server with N fib threads written
# in Python (run by every Python found: python3, pypy3, python2) and in Ruby, next to
# convoy-server with the policy that emulates it (the one whose `emulates` in
# convoy-server --list-policies names the interpreter). Prints real and emulated percentiles
# side by side and writes everything under results/reference-<time>-<suffix>/. With
# --io-model eventloop, every Python 3 runs an asyncio echo server instead, next to
# convoy-server --io-model eventloop.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$CONVOY_ROOT/scripts/lib/run.sh"

usage() {
  cat <<USAGE
usage: scripts/reference.sh [options]       (--name value or --name=value)
  --interpreters L  which to try (default "python3 pypy3 python2 ruby"; missing ones are skipped);
                    python3.N names a CPython found on PATH or under pyenv
  --io-model M      threads (default) or eventloop: an asyncio echo server under each Python 3,
                    beside convoy-server --io-model eventloop
  --duration D      measured time per run (default 4s)
  --cpu-threads N   fib threads in each server (default 1)
  --fib-depth N     depth of the real fib threads (default 20)
  --think D         client think time (default 2ms)
  --server-cpus L / --client-cpus L   pin servers / the client (CPU lists such as 0 or 0-2)
  --out DIR         results directory (default results/reference-<time>-<suffix>)
  --no-build        use existing binaries
USAGE
}

# interpreter -> the executable, the echo server, and how an emulating policy names it.
resolve() {
  case "$1" in
    python3) exe=/usr/bin/python3; [[ -x $exe ]] || exe=$(command -v python3 || true); script=echo_server.py family="CPython 3" ;;
    python3.[0-9]*)
      exe=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/"$1" 2>/dev/null | tail -n 1 || true)
      [[ -n "$exe" ]] || exe=$(command -v "$1" || true)
      script=echo_server.py family="CPython 3" ;;
    pypy3) exe=$(command -v pypy3 || true) script=echo_server.py family="PyPy" ;;
    python2) exe=$(command -v python2 || command -v python2.7 || true) script=echo_server.py family="CPython 2" ;;
    ruby) exe=$(command -v ruby || true) script=echo_server.rb family="Ruby" ;;
    *) return 1 ;;
  esac
}

interpreters="python3 pypy3 python2 ruby" duration=4s cpu_threads=1 fib_depth=20 think=2ms
server_cpus="" client_cpus="" out="" build=1 io_model=threads
split_options "$@"
set -- "${OPTIONS[@]}"
while (($#)); do
  case "$1" in
    --interpreters) need "$@"; interpreters=$2; shift 2 ;;
    --duration) need "$@"; duration=$2; shift 2 ;;
    --cpu-threads) need "$@"; cpu_threads=$2; shift 2 ;;
    --fib-depth) need "$@"; fib_depth=$2; shift 2 ;;
    --think) need "$@"; think=$2; shift 2 ;;
    --io-model) need "$@"; io_model=$2; shift 2 ;;
    --server-cpus) need "$@"; server_cpus=$2; shift 2 ;;
    --client-cpus) need "$@"; client_cpus=$2; shift 2 ;;
    --out) need "$@"; out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
interpreters=${interpreters//,/ }
check_duration --duration "$duration"
check_duration --think "$think"
check_count --cpu-threads "$cpu_threads"
check_count --fib-depth "$fib_depth"
check_cpus --server-cpus "$server_cpus"
[[ "$io_model" == threads || "$io_model" == eventloop ]] || die "--io-model must be threads or eventloop, not '$io_model'"
check_cpus --client-cpus "$client_cpus"
for interp in $interpreters; do
  resolve "$interp" || die "unknown interpreter '$interp' (python3, pypy3, python2 or ruby)"
done
[[ -n "${interpreters// /}" ]] || die "--interpreters is empty"
SERVER_CPUS=$server_cpus CLIENT_CPUS=$client_cpus

if ((build)); then build_release; else find_binaries || die "no binaries found; build them or drop --no-build"; fi
out=${out:-$(new_results_dir reference)}
mkdir -p "$out/points"
list_policies "$SERVER_BIN" --json >"$out/policies.json" || die "$SERVER_BIN cannot list its policies"
timeout=$(cdata seconds --ceil "$duration" 40s)
# shellcheck disable=SC2034 # passed by name
client_args=(--mode closed --size 100 --think "$think" --duration "$duration" --warmup 0.5s
  --timeout 3s --connections 1)

# emulated POLICY — convoy-server with POLICY once per run, beside the first interpreter it emulates.
emulated() {
  local dir="$out/points/emulated-$1"
  [[ ! -f "$dir/point.json" ]] || return 0
  cdata params "$dir" kind=emulated "policy=$1" "cpu_threads=$cpu_threads" "io_model=$io_model"
  # shellcheck disable=SC2034 # passed by name
  local server_cmd=("$SERVER_BIN" --port 0 --stats "$dir/server.json" --policy "$1" --cpu-threads "$cpu_threads"
    --io-model "$io_model")
  printf 'reference: convoy %-8s ... ' "$1" >&2
  measure_local "$dir" "$timeout" server_cmd client_args >&2 || true
}

order=0
for interp in $interpreters; do
  resolve "$interp"
  if [[ "$io_model" == eventloop ]]; then
    # asyncio's event loop, in every Python 3; the others have no twin of this model.
    if [[ "$interp" != python3* && "$interp" != pypy3 ]]; then
      note "$interp: no asyncio echo server for --io-model eventloop, skipped"
      continue
    fi
    script=echo_asyncio.py
  fi
  if [[ -z "$exe" ]]; then
    note "$interp: not installed, skipped"
    continue
  fi
  # A shim on PATH (pyenv's, say) may name an interpreter that is not really there.
  if ! version=$("$exe" --version 2>&1); then
    note "$interp: $exe does not run (${version%%$'\n'*}), skipped"
    continue
  fi
  version=${version%%$'\n'*}
  policy=$(cdata emulating "$out/policies.json" "$family" || true)
  order=$((order + 1))
  dir="$out/points/real-$interp"
  cdata params "$dir" kind=real "interpreter=$interp" "version=$version" "cpu_threads=$cpu_threads" \
    "order=$order" "emulated_by=$policy" "io_model=$io_model"
  # shellcheck disable=SC2034 # passed by name
  server_cmd=("$exe" "$CONVOY_ROOT/scripts/reference/$script" --port 0 --cpu-threads "$cpu_threads"
    --fib-depth "$fib_depth")
  printf 'reference: %-8s (%s) ... ' "$interp" "$version" >&2
  measure_local "$dir" "$timeout" server_cmd client_args --no-stats >&2 || true
  [[ -z "$policy" ]] || emulated "$policy"
done
((order > 0)) || die "none of the interpreters ($interpreters) is installed"

echo
cdata reference "$out"
echo
echo "results: $out (table: $out/table.tsv)"
