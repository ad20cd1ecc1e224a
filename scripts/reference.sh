#!/usr/bin/env bash
# The same client against real interpreters: a threaded echo server with N fib threads written
# in Python (run by every Python found: python3, pypy3, python2) and in Ruby, next to
# convoy-server with the policy that emulates it. Prints real and emulated percentiles side by
# side and writes everything under results/reference-<time>/. With --io-model eventloop, every
# Python 3 runs an asyncio echo server instead, next to convoy-server --io-model eventloop.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

usage() {
  cat <<USAGE
usage: scripts/reference.sh [options]
  --interpreters L  which to try (default "python3 pypy3 python2 ruby"; missing ones are skipped);
                    python3.N names a CPython found on PATH or under pyenv
  --io-model M      threads (default) or eventloop: an asyncio echo server under each Python 3,
                    beside convoy-server --io-model eventloop
  --duration D      measured time per run (default 4s)
  --cpu-threads N   fib threads in each server (default 1)
  --fib-depth N     depth of the real fib threads (default 20)
  --think D         client think time (default 2ms)
  --server-cpus L / --client-cpus L   pin servers / the client (taskset lists)
  --out DIR         results directory (default results/reference-<time>)
  --no-build        use existing binaries
USAGE
}

interpreters="python3 pypy3 python2 ruby" duration=4s cpu_threads=1 fib_depth=20 think=2ms
server_cpus="" client_cpus="" out="" build=1 io_model=threads
while [[ $# -gt 0 ]]; do
  case "$1" in
    --interpreters) interpreters=${2:?--interpreters needs a value}; shift 2 ;;
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --cpu-threads) cpu_threads=${2:?--cpu-threads needs a value}; shift 2 ;;
    --fib-depth) fib_depth=${2:?--fib-depth needs a value}; shift 2 ;;
    --think) think=${2:?--think needs a value}; shift 2 ;;
    --io-model) io_model=${2:?--io-model needs a value}; shift 2 ;;
    --server-cpus) server_cpus=${2:?--server-cpus needs a value}; shift 2 ;;
    --client-cpus) client_cpus=${2:?--client-cpus needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
interpreters=${interpreters//,/ }
seconds "$duration" >/dev/null
[[ "$cpu_threads" =~ ^[0-9]+$ ]] || die "--cpu-threads must be a whole number, not '$cpu_threads'"
[[ "$io_model" == threads || "$io_model" == eventloop ]] || die "--io-model must be threads or eventloop, not '$io_model'"

if ((build)); then build_release; else find_binaries || die "no binaries found; build them or drop --no-build"; fi
out=${out:-$CONVOY_ROOT/results/reference-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
CLIENT_TIMEOUT=$(awk -v d="$(seconds "$duration")" 'BEGIN { printf "%d", d + 40 }')
client_args=(--mode closed --size 100 --think "$think" --duration "$duration" --warmup 0.5s
  --timeout 3s --connections 1)

# interpreter -> the executable to run, the server script, and the convoy policy that emulates it.
resolve() {
  case "$1" in
    python3) exe=/usr/bin/python3; [[ -x $exe ]] || exe=$(command -v python3 || true); script=echo_server.py policy=py3 ;;
    python3.[0-9]*)
      exe=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/"$1" 2>/dev/null | tail -n 1 || true)
      [[ -n "$exe" ]] || exe=$(command -v "$1" || true)
      script=echo_server.py policy=py3 ;;
    pypy3) exe=$(command -v pypy3 || true) script=echo_server.py policy=- ;;
    python2) exe=$(command -v python2 || command -v python2.7 || true) script=echo_server.py policy=py2 ;;
    ruby) exe=$(command -v ruby || true) script=echo_server.rb policy=- ;;
    *) die "unknown interpreter '$1' (python3, pypy3, python2 or ruby)" ;;
  esac
}

rows=()
emulated_done=""
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
  server_cmd=("$exe" "$CONVOY_ROOT/scripts/reference/$script" --port 0 --cpu-threads "$cpu_threads"
    --fib-depth "$fib_depth")
  params=$(jq -nc --arg kind real --arg interp "$interp" --arg version "$version" --argjson cpu "$cpu_threads" \
    --arg io "$io_model" '{kind: $kind, interpreter: $interp, version: $version, cpu_threads: $cpu, io_model: $io}')
  printf 'reference: %-8s (%s) ... ' "$interp" "$version" >&2
  if POINT_STATS="" run_command_point "$out/real-$interp" "$params" "$server_cpus" "$client_cpus" server_cmd client_args; then
    jq -r '"p50 \(.client.results.latency.p50_us) us"' "$out/real-$interp/point.json" >&2
  else
    jq -r '"FAILED: \(.error)"' "$out/real-$interp/point.json" >&2
  fi
  if [[ "$policy" != - && " $emulated_done " != *" $policy "* ]]; then
    server_args=(--policy "$policy" --cpu-threads "$cpu_threads")
    [[ "$io_model" == eventloop ]] && server_args+=(--io-model eventloop)
    params=$(jq -nc --arg kind emulated --arg policy "$policy" --argjson cpu "$cpu_threads" \
      --arg io "$io_model" '{kind: $kind, policy: $policy, cpu_threads: $cpu, io_model: $io}')
    printf 'reference: convoy %-3s ... ' "$policy" >&2
    if run_point "$out/emulated-$policy" "$params" "$server_cpus" "$client_cpus" server_args client_args; then
      jq -r '"p50 \(.client.results.latency.p50_us) us"' "$out/emulated-$policy/point.json" >&2
    else
      jq -r '"FAILED: \(.error)"' "$out/emulated-$policy/point.json" >&2
    fi
    emulated_done+=" $policy"
  fi
  rows+=("$interp|$version|$policy")
done
((${#rows[@]})) || die "none of the interpreters ($interpreters) is installed"

ms() { jq -r "if .status == \"ok\" then (.client.results.latency.$2 / 1000 * 1000 | round / 1000 | tostring) else \"failed\" end" "$1" 2>/dev/null || echo -; }
echo
printf '%-8s %-22s %9s %9s %9s   %-8s %9s %9s %9s\n' interp version "p50 ms" "p90 ms" "p99 ms" emulated "p50 ms" "p90 ms" "p99 ms"
table="$out/table.tsv"
printf 'interpreter\tversion\treal_p50_ms\treal_p90_ms\treal_p99_ms\tpolicy\temulated_p50_ms\temulated_p90_ms\temulated_p99_ms\n' >"$table"
for row in "${rows[@]}"; do
  IFS='|' read -r interp version policy <<<"$row"
  real="$out/real-$interp/point.json"
  r50=$(ms "$real" p50_us) r90=$(ms "$real" p90_us) r99=$(ms "$real" p99_us)
  e50=- e90=- e99=- pol_label="(none)"
  if [[ "$policy" != - ]]; then
    emu="$out/emulated-$policy/point.json"
    e50=$(ms "$emu" p50_us) e90=$(ms "$emu" p90_us) e99=$(ms "$emu" p99_us) pol_label=$policy
  fi
  printf '%-8s %-22.22s %9s %9s %9s   %-8s %9s %9s %9s\n' "$interp" "$version" "$r50" "$r90" "$r99" "$pol_label" "$e50" "$e90" "$e99"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$interp" "$version" "$r50" "$r90" "$r99" "$pol_label" "$e50" "$e90" "$e99" >>"$table"
done
echo
echo "results: $out (table: $table)"
