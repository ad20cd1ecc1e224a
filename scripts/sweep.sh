#!/usr/bin/env bash
# Runs a sweep: every combination of the lists a sweep file sets, one convoy-server process per
# point (port 0) and convoy-client against it. Writes one JSON per point, one CSV for the whole
# sweep, and plots. Interrupted or partly failed sweeps resume: points already measured with the
# same settings are skipped, failed ones are measured again.
set -euo pipefail
source "$(dirname "$0")/lib/backends.sh"

usage() {
  cat <<USAGE
usage: scripts/sweep.sh SWEEP_FILE [options]       (--name value or --name=value)
  SWEEP_FILE        a shell file setting lists, e.g. configs/sweeps/cpu-threads.sh
  --out DIR         results directory (default results/sweep-<name>); rerun to resume
  --duration D      override the sweep file's measured time per point
  --repetitions N   override the sweep file's repetitions
  --no-plot         write JSON and CSV only
  --dry-run         list the points and exit (needs convoy-server)
$RUNNER_USAGE

A sweep file may set (defaults in brackets; lists are space-separated):
$(cdata settings)
USAGE
}

sweep_file="" out="" overrides=() plot=1 dry=0
split_options "$@"
set -- "${OPTIONS[@]}"
while (($#)); do
  if runner_option "$@"; then shift "$TAKEN"; continue; fi
  case "$1" in
    --out) need "$@"; out=$2; shift 2 ;;
    --duration) need "$@"; check_positive_duration --duration "$2"; overrides+=(--set "duration=$2"); shift 2 ;;
    --repetitions) need "$@"; check_count --repetitions "$2"; overrides+=(--set "repetitions=$2"); shift 2 ;;
    --no-plot) plot=0; shift ;;
    --dry-run) dry=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) unknown_option "$1" ;;
    *) [[ -z "$sweep_file" ]] || die "one sweep file, not '$sweep_file' and '$1'"; sweep_file=$1; shift ;;
  esac
done
[[ -n "$sweep_file" ]] || { usage >&2; die "no sweep file"; }
[[ -f "$sweep_file" ]] || die "no such sweep file: '$sweep_file'"
runner_check
[[ -z "$out" || ! -e "$out" || -d "$out" ]] || die "--out: '$out' is not a directory"

# The sweep file is checked in full against the binaries at hand (its policies, their knobs),
# else in form only; the plan checks it again against what is built.
find_binaries || true
if lists_policies "${SERVER_BIN:-}"; then
  cdata plan --check --sweep-file "$sweep_file" --policies <(list_policies "$SERVER_BIN" --json) "${overrides[@]}"
  if ((dry)); then
    cdata plan --dry-run --sweep-file "$sweep_file" --policies <(list_policies "$SERVER_BIN" --json) "${overrides[@]}"
    exit 0
  fi
else
  cdata plan --check --sweep-file "$sweep_file" "${overrides[@]}"
  ((dry == 0)) || die "a dry run needs convoy-server (build it, or set CONVOY_BIN_DIR)"
fi

prepare_programs 0
out=${out:-$CONVOY_ROOT/results/sweep-$(basename "$sweep_file" .sh)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# One sweep at a time writes to a directory.
exec 9>"$out/.lock"
flock -n 9 || die "another sweep is writing to $out"
prepare_results "$out"
cp "$sweep_file" "$out/sweep-file.sh"
runner_notes
plan_points "$out" --sweep-file "$sweep_file" --policies "$out/policies.json" "${overrides[@]}" "${RUN_NOTES[@]}"

failed=0
run_plan "$out" || failed=1
cdata csv "$out"
if ((plot)); then cdata plot-sweep "$out/sweep.csv" --out "$out" || note "no plots; the CSV is complete"; fi
exit "$failed"
