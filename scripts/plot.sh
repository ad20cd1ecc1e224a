#!/usr/bin/env bash
# Turns convoy results into PNG plots with gnuplot.
#
#   scripts/plot.sh SWEEP.csv [--out DIR]
#       one PNG per axis the sweep varied: latency (p50 and p99, log scale) per policy (and I/O
#       model) against fib threads, switch interval, check interval, message size or connections,
#       and fib calls/s against the same axis. Repeated points are reduced to their median.
#   scripts/plot.sh --percentiles OUT.png LABEL=FILE.hgrm...
#       percentile curves (HdrHistogram style: x = 1/(1-p) on a log axis) of several runs.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

command -v gnuplot >/dev/null || die "gnuplot is not installed (scripts/install-deps.sh installs it)"

term='pngcairo size 1000,640 font "DejaVu Sans,11" noenhanced'
colors=("#1b9e77" "#d95f02" "#7570b3" "#e7298a" "#66a61e" "#e6ab02" "#a6761d" "#666666")

percentiles() {
  local png=$1
  shift
  [[ $# -gt 0 ]] || die "--percentiles needs LABEL=FILE.hgrm arguments"
  local tmp plots=() i=0 arg label file
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  for arg in "$@"; do
    label=${arg%%=*} file=${arg#*=}
    [[ "$label" != "$arg" && -s "$file" ]] || die "not LABEL=FILE with a non-empty file: '$arg'"
    # Rows with all four columns; values from microseconds to milliseconds.
    awk 'NF == 4 && $1 ~ /^[0-9.]+$/ { print $4, $1 / 1000 }' "$file" >"$tmp/$i.dat"
    [[ -s "$tmp/$i.dat" ]] || die "no percentile rows in '$file' (not an .hgrm file?)"
    plots+=("'$tmp/$i.dat' using 1:2 with lines lw 2.5 lc rgb '${colors[i % ${#colors[@]}]}' title '$label'")
    i=$((i + 1))
  done
  gnuplot <<GNUPLOT
set terminal $term
set output '$png'
set title 'Round-trip latency by percentile'
set logscale x 10
set logscale y 10
set xrange [1:*]
set xtics ('0%%' 1, '50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000)
set xlabel 'percentile'
set ylabel 'round trip (ms)'
set format y '%g'
set grid xtics ytics mytics
set key top left box opaque
plot $(IFS=,; echo "${plots[*]}")
GNUPLOT
  echo "wrote $png"
}

# sweep_axis CSV OUTDIR AXIS_COLUMN AXIS_LABEL LOGX FILENAME_STEM
sweep_axis() {
  local csv=$1 outdir=$2 axis=$3 xlabel=$4 logx=$5 stem=$6 tmp models
  tmp=$(mktemp -d)
  # With more than one I/O model in the sweep, every series names its model.
  models=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "io_model") c = i; next }
    c { v[$c] = 1 } END { n = 0; for (k in v) n++; print n }' "$csv")
  # One .dat per series (policy, plus I/O release mode when it varies): axis, median p50, p99
  # and fib calls/s over the repetitions of each point that succeeded.
  awk -F, -v axis="$axis" -v dir="$tmp" -v models="$models" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["status"] != "ok" { next }
    {
      series = $col["policy"]
      if ($col["io_release"] != "always") series = series " " $col["io_release"]
      if (("io_model" in col) && (models > 1 || $col["io_model"] != "threads")) series = series " " $col["io_model"]
      key = series SUBSEP $col[axis]
      n[key]++
      p50[key, n[key]] = $col["p50_us"] / 1000; p99[key, n[key]] = $col["p99_us"] / 1000
      fib[key, n[key]] = $col["fib_calls_per_s"]
      seen[series] = 1; x[key] = $col[axis]; s[key] = series
    }
    function median(arr, key, count,   i, j, t, v) {
      for (i = 1; i <= count; i++) v[i] = arr[key, i]
      for (i = 2; i <= count; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
    }
    END {
      for (key in n) {
        f = dir "/" s[key] ".dat"; gsub(/ /, "_", f)
        print x[key], median(p50, key, n[key]), median(p99, key, n[key]), median(fib, key, n[key]) > f
      }
      for (series in seen) { f = dir "/" series ".dat"; gsub(/ /, "_", f); print series > (dir "/series") }
    }' "$csv"
  if [[ ! -s "$tmp/series" ]]; then
    rm -rf "$tmp"
    note "no successful points to plot against $axis"
    return 0
  fi
  local lat=() fib=() i=0 series f color
  while IFS= read -r series; do
    f="$tmp/${series// /_}.dat"
    sort -g -o "$f" "$f"
    color=${colors[i % ${#colors[@]}]}
    lat+=("'$f' using 1:2 with linespoints lw 2 pt 7 lc rgb '$color' title '$series p50'")
    lat+=("'$f' using 1:3 with linespoints lw 2 pt 5 dt 2 lc rgb '$color' title '$series p99'")
    fib+=("'$f' using 1:4 with linespoints lw 2 pt 7 lc rgb '$color' title '$series'")
    i=$((i + 1))
  done < <(sort "$tmp/series")
  local xlog="set xtics 1"
  [[ "$logx" == 1 ]] && xlog="set logscale x 10"
  gnuplot <<GNUPLOT
set terminal $term
set grid
set key outside right top box
set xlabel '$xlabel'
$xlog
set output '$outdir/latency-vs-$stem.png'
set title 'Round-trip latency against $xlabel (median over repetitions)'
set logscale y 10
set format y '%g'
set ylabel 'round trip (ms)'
plot $(IFS=,; echo "${lat[*]}")
set output '$outdir/fib-vs-$stem.png'
set title 'CPU-bound throughput against $xlabel'
unset logscale y
set yrange [0:*]
set ylabel 'fib calls per second'
set format y '%.2s%c'
plot $(IFS=,; echo "${fib[*]}")
GNUPLOT
  rm -rf "$tmp"
  echo "wrote $outdir/latency-vs-$stem.png $outdir/fib-vs-$stem.png"
}

sweep() {
  local csv=$1 outdir=$2
  [[ -s "$csv" ]] || die "no such CSV file: '$csv'"
  head -n 1 "$csv" | grep -q '^point,policy,' || die "'$csv' is not a sweep CSV (no header 'point,policy,...')"
  mkdir -p "$outdir"
  local axis distinct plotted=0
  for spec in "cpu_threads:fib threads:0:cpu-threads" "switch_interval_us:switch interval (us):1:switch-interval" \
    "check_interval:check interval (ticks):1:check-interval" "size:message size (bytes):1:size" \
    "connections:connections:1:connections" \
    "io_release:-:0:-"; do
    IFS=: read -r axis label logx stem <<<"$spec"
    [[ "$stem" == - ]] && continue
    distinct=$(awk -F, -v axis="$axis" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == axis) c = i; next }
      c && $c != "" && $c != "-" { v[$c] = 1 } END { n = 0; for (k in v) n++; print n }' "$csv")
    if ((distinct > 1)); then
      sweep_axis "$csv" "$outdir" "$axis" "$label" "$logx" "$stem"
      plotted=1
    fi
  done
  if ((!plotted)); then
    # Nothing varied along a numeric axis (e.g. only the I/O release mode): plot against fib threads.
    sweep_axis "$csv" "$outdir" cpu_threads "fib threads" 0 cpu-threads
  fi
}

case "${1:-}" in
  "" | -h | --help)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    [[ -n "${1:-}" ]] && exit 0 || exit 2
    ;;
  --percentiles)
    [[ $# -ge 3 ]] || die "usage: plot.sh --percentiles OUT.png LABEL=FILE.hgrm..."
    shift
    out=$1
    shift
    percentiles "$out" "$@"
    ;;
  *)
    csv=$1
    shift
    outdir=$(dirname "$csv")
    if [[ "${1:-}" == --out ]]; then outdir=${2:?--out needs a directory}; fi
    sweep "$csv" "$outdir"
    ;;
esac
