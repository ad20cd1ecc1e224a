#!/usr/bin/env bash
# The fidelity matrix: for every scenario of a scenario file (default configs/fidelity/default.sh)
# and every interpreter found that a policy emulates (scripts/lib/interpreters.sh: CPython 2 ->
# py2, CPython 3 -> py3, free-threaded -> none, PyPy -> pypy, Ruby -> ruby), the same
# client against the real interpreter's echo server and against convoy-server with the emulating
# policy, runs interleaved (real, emulated, emulated, real, ...) over the repetitions so that the
# machine's drift hits both sides. Prints a table per scenario and interpreter (real and emulated
# p50, p90, p99, mean, the ratio of means, the Kolmogorov-Smirnov distance, a verdict against the
# tolerance) and writes fidelity.csv and fidelity.png (CDFs) under results/fidelity-<time>-<suffix>/.
# An interpreter with a profile fitted by scripts/calibrate.sh (configs/profiles/<label>.toml) is
# also run against convoy-server with that profile: the "fitted" columns.
# A rerun with --out of an earlier run measures only what is missing or failed.
set -euo pipefail
source "$(dirname "$0")/lib/real.sh"

usage() {
  cat <<USAGE
usage: scripts/fidelity.sh [SCENARIO_FILE] [options]      (--name value or --name=value)
  SCENARIO_FILE     the scenarios (default configs/fidelity/default.sh; configs/fidelity/quick.sh
                    is a small one); it sets cpu_threads, think, switch_interval, size (lists) and
                    duration, warmup, repetitions, tolerance, reply_timeout, fib_depth
  --interpreters L  which interpreters, as scripts/reference.sh takes them (default all)
  --interpreter LABEL=PATH   one more interpreter (repeatable); given alone, only these
  --server-cpus L / --client-cpus L   pin the servers / the client (CPU lists such as 0 or 0-1)
  --profiles DIR    fitted profiles (default configs/profiles; see scripts/calibrate.sh): an
                    interpreter with DIR/<label>.toml also runs against it
  --no-profiles     the default cost model only
  --out DIR         results directory (default results/fidelity-<time>-<suffix>); an earlier
                    run's directory is completed, not redone
  --dry-run         print the runs and exit
  --no-plot         no fidelity.png
  --no-build        use existing binaries
USAGE
}

scenario_file="" interpreters="" explicit=() server_cpus="" client_cpus="" out="" build=1
dry_run=0 plot=1 profiles="" use_profiles=1
split_options "$@"
set -- "${OPTIONS[@]}"
while (($#)); do
  if real_option "$@"; then shift "$TAKEN"; continue; fi
  case "$1" in
    --profiles) need "$@"; profiles=$2; shift 2 ;;
    --no-profiles) use_profiles=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    --no-plot) plot=0; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) unknown_option "$1" ;;
    *) [[ -z "$scenario_file" ]] || die "one scenario file at most ('$scenario_file', then '$1')"
      scenario_file=$1; shift ;;
  esac
done
scenario_file=${scenario_file:-$CONVOY_ROOT/configs/fidelity/default.sh}
[[ -f "$scenario_file" ]] || die "no such scenario file: '$scenario_file'"
cdata fidelity-plan "$scenario_file" --check || exit 2
interpreters=${interpreters//,/ }
if [[ -z "${interpreters// /}" ]]; then ((${#explicit[@]} > 0)) || interpreters=all; fi
check_interpreter_choice "$interpreters" ${explicit[@]+"${explicit[@]}"}
check_cpus --server-cpus "$server_cpus"
check_cpus --client-cpus "$client_cpus"
if [[ -n "$out" && -e "$out" && ! -d "$out" ]]; then die "--out '$out' is not a directory"; fi
if [[ -n "$profiles" && ! -d "$profiles" ]]; then die "--profiles '$profiles' is not a directory"; fi
profiles=${profiles:-$CONVOY_ROOT/configs/profiles}
SERVER_CPUS=$server_cpus CLIENT_CPUS=$client_cpus

if ((build)); then build_release; else find_binaries || die "no binaries found; build them or drop --no-build"; fi
policies_json=$(list_policies "$SERVER_BIN" --json) || die "$SERVER_BIN cannot list its policies"
find_interpreters "$interpreters" ${explicit[@]+"${explicit[@]}"}
((${#INTERP_LABEL[@]} > 0)) || die "no interpreter found that '${interpreters:-${explicit[*]}}' picks"

out=${out:-$(new_results_dir fidelity)}
mkdir -p "$out"
printf '%s\n' "$policies_json" >"$out/policies.json"
: >"$out/interpreters.tsv.tmp"
for i in "${!INTERP_LABEL[@]}"; do
  family=${INTERP_FAMILY[$i]} lookup=${INTERP_FAMILY[$i]}
  [[ "$lookup" != "CPython free-threaded" ]] || lookup=free-threaded
  policy=$(cdata emulating "$out/policies.json" "$lookup" || true)
  [[ -n "$policy" ]] || note "${INTERP_LABEL[$i]}: no policy emulates $family yet, skipped"
  profile=""
  if ((use_profiles)) && [[ -n "$policy" && -f "$profiles/${INTERP_LABEL[$i]}.toml" ]]; then
    profile=$(readlink -f "$profiles/${INTERP_LABEL[$i]}.toml")
    "$SERVER_BIN" --config "$profile" --print-config >/dev/null 2>&1 ||
      die "${INTERP_LABEL[$i]}: convoy-server does not load the profile $profile"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${INTERP_LABEL[$i]}" "$family" "${INTERP_PATH[$i]}" "$policy" "$profile" \
    "${INTERP_VERSION[$i]}" >>"$out/interpreters.tsv.tmp"
done
mv "$out/interpreters.tsv.tmp" "$out/interpreters.tsv"
cdata fidelity-plan "$scenario_file" --interpreters "$out/interpreters.tsv" --root "$CONVOY_ROOT" \
  --server-bin "$SERVER_BIN" --out "$out" >"$out/todo.tmp" || die "could not plan the runs in $out"
mv "$out/todo.tmp" "$out/todo"
if ((dry_run)); then
  cut -f5 "$out/todo"
  exit 0
fi

# The runs, in the plan's interleaved order, with a progress line and the time left.
total=$(grep -c . "$out/todo" || true) i=0 measured=0 started_at=$SECONDS
while IFS=$'\t' read -r -u 3 id state timeout side label; do
  i=$((i + 1))
  if [[ "$state" == done ]]; then
    printf '[%d/%d] %s: done before, skipped\n' "$i" "$total" "$label"
    continue
  fi
  left=""
  if ((measured > 0)); then
    per=$(((SECONDS - started_at) / measured))
    left=$(printf ' (about %dm%02ds left)' $((per * (total - i + 1) / 60)) $((per * (total - i + 1) % 60)))
  fi
  printf '[%d/%d]%s %s: ' "$i" "$total" "$left" "$label"
  dir="$out/points/$id"
  server_cmd=() client_args=()
  mapfile -d '' -t server_cmd <"$dir/server.cmd"
  mapfile -d '' -t client_args <"$dir/client.args"
  stats=()
  [[ "$side" != real ]] || stats=(--no-stats)
  measure_local "$dir" "$timeout" server_cmd client_args ${stats[@]+"${stats[@]}"} || true
  measured=$((measured + 1))
done 3<"$out/todo"

echo
cdata fidelity-report "$out" | tee "$out/table.txt"
if ((plot)); then cdata fidelity-plot "$out" "$out/fidelity.png" || note "no plot (see above)"; fi
echo "results: $out (table: $out/table.txt, CSV: $out/fidelity.csv)"
