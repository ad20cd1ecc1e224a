#!/usr/bin/env bash
# Turns convoy results into PNG plots (matplotlib, through scripts/convoy-data).
#
#   scripts/plot.sh SWEEP.csv [--out DIR]
#       one pair of PNGs per axis the sweep varied along numbers: latency (p50, p99 and the
#       maximum, log scale) and fib calls/s against fib threads, switch interval, check interval,
#       message size and so on, a line per policy (and per value of any other axis that varied).
#       Repeated points are reduced to their median; the single runs are drawn beside it.
#   scripts/plot.sh --percentiles OUT.png LABEL=FILE.hgrm...
#       percentile curves (HdrHistogram style: x = 1/(1-p) on a log axis) of several runs, each
#       ending in its maximum.
#   scripts/plot.sh --demo RESULTS_DIR
#       the percentile curves of a demo (or sweep) results directory, with the conditions.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

split_options "$@"
set -- "${OPTIONS[@]}"
case "${1:-}" in
  "") usage >&2; exit 2 ;;
  -h | --help) usage ;;
  --percentiles)
    [[ $# -ge 3 ]] || die "usage: plot.sh --percentiles OUT.png LABEL=FILE.hgrm..."
    cdata plot-percentiles "${@:2}"
    ;;
  --demo)
    [[ $# -eq 2 ]] || die "usage: plot.sh --demo RESULTS_DIR"
    cdata plot-demo "$2" "$2/latency-percentiles.png"
    ;;
  -*) unknown_option "$1" ;;
  *)
    csv=$1 out=()
    shift
    while (($#)); do
      case "$1" in
        --out) need "$@"; out=(--out "$2"); shift 2 ;;
        *) unknown_option "$1" ;;
      esac
    done
    cdata plot-sweep "$csv" "${out[@]}"
    ;;
esac
