#!/usr/bin/env bash
# The GIL timeline of a trace convoy-server wrote (--trace FILE, Chrome trace-event JSON) as a PNG:
# one lane per thread (main, io-K, fib-K), when each holds the lock, waits for it or sits in a
# syscall, with the drop requests, forced switches and messages marked, and a line per thread on
# stdout (share of the window holding, waiting, in syscalls; waits and the longest).
#
#   scripts/timeline.sh TRACE.json [--from MS --to MS] [--out PNG] [--no-summary]
#       the whole trace by default; --from/--to in ms since the run started, inside the trace.
#       The PNG defaults to TRACE with .png for .json.
#   scripts/timeline.sh TRACE.json TRACE.json... --out PNG [--from MS --to MS]
#       the traces stacked, one panel each, over spans of one length on a shared time axis
#       (what demo.sh draws as timelines.png: py2 above py3); a shorter trace is pointed out.
#
# The JSON itself opens in the Perfetto UI (ui.perfetto.dev, Open trace file) and chrome://tracing.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

check_ms() { [[ "$2" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || die "$1: '$2' is not a number of milliseconds"; }

traces=() window=() out="" summary=()
split_options "$@"
set -- "${OPTIONS[@]}"
(($#)) || { usage >&2; exit 2; }
while (($#)); do
  case "$1" in
    --from | --to) need "$@"; check_ms "$1" "$2"; window+=("$1" "$2"); shift 2 ;;
    --out) need "$@"; out=$2; shift 2 ;;
    --no-summary) summary=(--no-summary); shift ;;
    -h | --help) usage; exit 0 ;;
    -*) unknown_option "$1" ;;
    *) traces+=("$1"); shift ;;
  esac
done

((${#traces[@]})) || die "no trace given (see --help)"
for t in "${traces[@]}"; do [[ -f "$t" ]] || die "no such trace file: '$t'"; done
if ((${#traces[@]} > 1)); then
  [[ -n "$out" ]] || die "several traces need --out PNG"
  [[ ${#window[@]} -eq 0 || ${#window[@]} -eq 4 ]] || die "several traces need both --from and --to, or neither"
fi
if [[ -n "$out" ]]; then
  [[ "$out" == *.png ]] || die "--out: '$out' is not a .png file name"
  [[ -d "$(dirname "$out")" ]] || die "--out: no directory '$(dirname "$out")'"
fi

if ((${#traces[@]} > 1)); then
  cdata timelines "$out" "${traces[@]}" "${window[@]}" "${summary[@]}"
else
  cdata timeline "${traces[0]}" ${out:+--out "$out"} "${window[@]}" "${summary[@]}"
fi
