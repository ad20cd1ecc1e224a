#!/usr/bin/env bash
# Runs a sweep: every combination of the lists a sweep file sets, one convoy-server process per
# point (port 0) and convoy-client against it. Writes one JSON per point, one CSV for the whole
# sweep, and plots. Interrupted or partly failed sweeps resume: points already measured are
# skipped, failed ones are measured again.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

usage() {
  cat <<USAGE
usage: scripts/sweep.sh SWEEP_FILE [options]
  SWEEP_FILE        a shell file setting lists, e.g. configs/sweeps/cpu-threads.sh
  --out DIR         results directory (default results/sweep-<name>); rerun to resume
  --server-cpus L   pin every server to these CPUs (taskset list)
  --client-cpus L   pin every client to these CPUs
  --duration D      override the sweep file's measured time per point
  --no-build        use existing binaries (CONVOY_BIN_DIR or build/release)
  --no-plot         write JSON and CSV only
  --dry-run         list the points and exit

A sweep file may set (defaults in brackets):
  policies ["none py2 py3"]   cpu_threads ["1"]        switch_intervals ["5ms"] (py3 only)
  check_intervals ["100"] (py2 only)   sizes ["100"]    modes ["closed"] (closed|open)
  think ["2ms"] (closed)      rates ["500"] (open, requests/s)   arrival ["uniform"]
  io_releases ["always"] (always|when-blocking)      io_models ["threads"] (threads|eventloop)
  connections ["1"]   repetitions [1]   client_timeout ["2s"] (the client's wait for one echo)
  duration ["3s"]   warmup ["0.5s"]   fib_depth [""]   server_extra=() client_extra=()
USAGE
}

[[ $# -ge 1 ]] || { usage >&2; exit 2; }
case "$1" in -h | --help) usage; exit 0 ;; esac
sweep_file=$1
shift
[[ -f "$sweep_file" ]] || die "no such sweep file: '$sweep_file'"

out="" server_cpus="" client_cpus="" duration_override="" build=1 plot=1 dry=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --server-cpus) server_cpus=${2:?--server-cpus needs a value}; shift 2 ;;
    --client-cpus) client_cpus=${2:?--client-cpus needs a value}; shift 2 ;;
    --duration) duration_override=${2:?--duration needs a value}; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-plot) plot=0; shift ;;
    --dry-run) dry=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done

policies="none py2 py3" cpu_threads="1" switch_intervals="5ms" check_intervals="100" sizes="100"
modes="closed" think="2ms" rates="500" arrival="uniform" io_releases="always" io_models="threads"
repetitions=1 client_timeout="2s"
duration="3s" warmup="0.5s" connections=1 fib_depth="" server_extra=() client_extra=()
# shellcheck disable=SC1090
source "$sweep_file" || die "the sweep file '$sweep_file' failed to load"
[[ -n "$duration_override" ]] && duration=$duration_override
seconds "$duration" >/dev/null
seconds "$warmup" >/dev/null
seconds "$client_timeout" >/dev/null
[[ "$repetitions" =~ ^[1-9][0-9]*$ ]] || die "repetitions must be a positive whole number, not '$repetitions'"
for m in $modes; do [[ "$m" == closed || "$m" == open ]] || die "unknown mode '$m' (closed or open)"; done
for m in $io_models; do [[ "$m" == threads || "$m" == eventloop ]] || die "unknown io model '$m' (threads or eventloop)"; done
for n in $connections; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "connections must be positive whole numbers, not '$n'"; done

name=$(basename "$sweep_file" .sh)
out=${out:-$CONVOY_ROOT/results/sweep-$name}

# The points, one per line: policy cpu si ci size mode think-or-rate io model connections rep
points=()
for ((rep = 1; rep <= repetitions; rep++)); do
  for policy in $policies; do
    sis="-" cis="-"
    [[ "$policy" == py3 ]] && sis=$switch_intervals
    [[ "$policy" == py2 ]] && cis=$check_intervals
    for cpu in $cpu_threads; do for si in $sis; do for ci in $cis; do for size in $sizes; do
      for mode in $modes; do
        loads=$think
        [[ "$mode" == open ]] && loads=$rates
        for load in $loads; do for io in $io_releases; do for model in $io_models; do
          for conns in $connections; do
            points+=("$policy $cpu $si $ci $size $mode $load $io $model $conns $rep")
          done
        done; done; done
      done
    done; done; done; done
  done
done

if ((dry)); then
  printf '%s\n' "${points[@]}"
  exit 0
fi

if ((build)); then build_release; else find_binaries || die "no binaries found; build them or drop --no-build"; fi
mkdir -p "$out/points"
cp "$sweep_file" "$out/sweep-file.sh"
CLIENT_TIMEOUT=$(awk -v d="$(seconds "$duration")" -v w="$(seconds "$warmup")" 'BEGIN { printf "%d", d + w + 30 }')

total=${#points[@]} i=0 failed=0
for p in "${points[@]}"; do
  i=$((i + 1))
  read -r policy cpu si ci size mode load io model conns rep <<<"$p"
  id="$policy-c$cpu-si$si-ci$ci-s$size-$mode$load-$io-r$rep"
  # The defaults keep the names points had before these axes existed, so old sweeps resume.
  [[ "$model" != threads || "$conns" != 1 ]] && id+="-$model-n$conns"
  id=${id//[^A-Za-z0-9._-]/_}
  dir="$out/points/$id"
  label="$policy cpu=$cpu"
  [[ "$si" != - ]] && label+=" switch=$si"
  [[ "$ci" != - ]] && label+=" check=$ci"
  label+=" size=$size $mode"
  [[ "$mode" == open ]] && label+=" rate=$load" || label+=" think=$load"
  [[ "$io" != always ]] && label+=" io=$io"
  [[ "$model" != threads ]] && label+=" model=$model"
  [[ "$conns" != 1 ]] && label+=" connections=$conns"
  ((repetitions > 1)) && label+=" rep=$rep"
  if [[ -f "$dir/point.json" ]] && [[ $(jq -r .status "$dir/point.json" 2>/dev/null) == ok ]]; then
    printf '[%d/%d] %s: done before, skipped\n' "$i" "$total" "$label"
    continue
  fi
  server_args=(--policy "$policy" --cpu-threads "$cpu" --io-release "$io" --io-model "$model")
  [[ "$si" != - ]] && server_args+=(--switch-interval "$si")
  [[ "$ci" != - ]] && server_args+=(--check-interval "$ci")
  [[ -n "$fib_depth" ]] && server_args+=(--fib-depth "$fib_depth")
  server_args+=("${server_extra[@]}")
  client_args=(--mode "$mode" --size "$size" --duration "$duration" --warmup "$warmup"
    --connections "$conns" --timeout "$client_timeout")
  if [[ "$mode" == open ]]; then client_args+=(--rate "$load" --arrival "$arrival"); else client_args+=(--think "$load"); fi
  client_args+=("${client_extra[@]}")
  si_us=- think_us=- rate=-
  [[ "$si" != - ]] && si_us=$(awk -v s="$(seconds "$si")" 'BEGIN { printf "%g", s * 1e6 }')
  if [[ "$mode" == open ]]; then rate=$load; else think_us=$(awk -v s="$(seconds "$load")" 'BEGIN { printf "%g", s * 1e6 }'); fi
  params=$(jq -nc --arg id "$id" --arg policy "$policy" --arg cpu "$cpu" --arg si "$si_us" --arg ci "$ci" \
    --arg size "$size" --arg mode "$mode" --arg think "$think_us" --arg rate "$rate" --arg io "$io" \
    --arg rep "$rep" --arg server_cpus "$server_cpus" --arg client_cpus "$client_cpus" \
    --arg model "$model" --arg conns "$conns" \
    '{id: $id, policy: $policy, cpu_threads: $cpu, switch_interval_us: $si, check_interval: $ci,
      size: $size, mode: $mode, think_us: $think, rate: $rate, io_release: $io, rep: $rep,
      server_cpus: $server_cpus, client_cpus: $client_cpus, io_model: $model, connections: $conns}')
  printf '[%d/%d] %s: ' "$i" "$total" "$label"
  if run_point "$dir" "$params" "$server_cpus" "$client_cpus" server_args client_args; then
    jq -r "$summary_filter"' | "p50 \(.p50_us / 1000 * 1000 | round / 1000) ms, p99 \(.p99_us / 1000 * 1000 | round / 1000) ms, fib \(.fib_calls_per_s | round) calls/s"' "$dir/point.json"
  else
    failed=$((failed + 1))
    jq -r '"FAILED: \(.error)"' "$dir/point.json"
  fi
done

# The CSV is rebuilt from every point's JSON, so a resumed sweep has all its rows.
csv="$out/sweep.csv"
{
  echo "point,policy,cpu_threads,switch_interval_us,check_interval,size,mode,think_us,rate,io_release,rep,status,p50_us,p90_us,p99_us,p999_us,max_us,mean_us,count,requests_per_s,fib_calls_per_s,switches_per_s,drop_requests,futile_wakeups,io_model,connections,error"
  for f in "$out"/points/*/point.json; do
    [[ -f "$f" ]] || continue
    jq -r "(.point) as \$p | ($summary_filter) as \$s |
      [\$p.id, \$p.policy, \$p.cpu_threads, \$p.switch_interval_us, \$p.check_interval, \$p.size, \$p.mode,
       \$p.think_us, \$p.rate, \$p.io_release, \$p.rep, \$s.status, \$s.p50_us, \$s.p90_us, \$s.p99_us,
       \$s.p999_us, \$s.max_us, \$s.mean_us, \$s.count, \$s.requests_per_s, \$s.fib_calls_per_s,
       \$s.switches_per_s, \$s.drop_requests, \$s.futile_wakeups, (\$p.io_model // \"threads\"),
       (\$p.connections // \"1\"), ((\$s.error // \"\") | gsub(\"[,\\n]\"; \";\"))] | @csv" "$f" |
      sed 's/"//g'
  done
} >"$csv.tmp"
mv "$csv.tmp" "$csv"
echo "csv:     $csv ($((total - failed)) of $total points ok)"
if ((plot)); then "$CONVOY_ROOT/scripts/plot.sh" "$csv" --out "$out" || note "plotting failed; the CSV is complete"; fi
((failed == 0))
