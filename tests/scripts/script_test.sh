#!/usr/bin/env bash
# script_test.sh CASE — one end-to-end check of a user-facing script. Exits non-zero with a
# message naming what was wrong. Binaries come from CONVOY_SERVER_BIN / CONVOY_CLIENT_BIN.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fixtures="$root/tests/scripts/fixtures"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
is_png() { [[ -s "$1" ]] && [[ $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }
expect_png() { is_png "$1" || fail "no PNG at $1"; }

case "${1:?case}" in
  plot-fixture)
    "$root/scripts/plot.sh" "$fixtures/sweep.csv" --out "$tmp" >"$tmp/log"
    expect_png "$tmp/latency-vs-cpu-threads.png"
    expect_png "$tmp/fib-vs-cpu-threads.png"
    # One axis varied in the fixture, so there is no switch-interval plot.
    [[ ! -e "$tmp/latency-vs-switch-interval.png" ]] || fail "plotted an axis that did not vary"
    ;;
  plot-percentiles)
    "$root/scripts/plot.sh" --percentiles "$tmp/p.png" "none=$fixtures/demo.hgrm" "py3=$fixtures/py3.hgrm"
    expect_png "$tmp/p.png"
    ;;
  plot-bad-input)
    rc=0
    "$root/scripts/plot.sh" "$tmp/missing.csv" 2>"$tmp/err" || rc=$?
    [[ $rc -ne 0 ]] || fail "plot.sh accepted a missing CSV"
    grep -q "no such CSV file" "$tmp/err" || fail "unclear message: $(cat "$tmp/err")"
    echo "x,y" >"$tmp/bad.csv"
    rc=0
    "$root/scripts/plot.sh" "$tmp/bad.csv" 2>"$tmp/err" || rc=$?
    [[ $rc -ne 0 ]] && grep -q "not a sweep CSV" "$tmp/err" || fail "accepted a CSV that is not a sweep's"
    ;;
  sweep-tiny | sweep-resume)
    cat >"$tmp/tiny.sh" <<'SWEEP'
# Two points, one second each: the smallest sweep that has something to compare.
policies="none py3"
cpu_threads="1"
duration="1s"
warmup="0.2s"
SWEEP
    "$root/scripts/sweep.sh" "$tmp/tiny.sh" --out "$tmp/out" --no-build >"$tmp/log" 2>&1 ||
      fail "sweep failed: $(cat "$tmp/log")"
    csv="$tmp/out/sweep.csv"
    head -n 1 "$csv" | grep -q '^point,policy,cpu_threads,switch_interval_us,check_interval,size,mode,think_us,rate,io_release,rep,status,p50_us,p90_us,p99_us,p999_us,max_us' ||
      fail "unexpected CSV header: $(head -n 1 "$csv")"
    [[ $(tail -n +2 "$csv" | wc -l) -eq 2 ]] || fail "expected 2 rows: $(cat "$csv")"
    [[ $(awk -F, 'NR > 1 && $12 == "ok" && $13 > 0' "$csv" | wc -l) -eq 2 ]] || fail "a point failed: $(cat "$csv")"
    grep -q '^\[2/2\]' "$tmp/log" || fail "no progress line per point: $(cat "$tmp/log")"
    expect_png "$tmp/out/latency-vs-cpu-threads.png"
    if [[ "$1" == sweep-resume ]]; then
      # A rerun skips what is done; a failed point is measured again.
      jq '.status = "failed" | .error = "made up"' "$tmp/out/points/none-"*/point.json >"$tmp/f.json"
      mv "$tmp/f.json" "$(ls "$tmp/out/points/none-"*/point.json)"
      "$root/scripts/sweep.sh" "$tmp/tiny.sh" --out "$tmp/out" --no-build --no-plot >"$tmp/log2" 2>&1 ||
        fail "resumed sweep failed: $(cat "$tmp/log2")"
      grep -q 'py3 .*done before, skipped' "$tmp/log2" || fail "the done point was not skipped: $(cat "$tmp/log2")"
      grep -q 'none .*p50' "$tmp/log2" || fail "the failed point was not measured again: $(cat "$tmp/log2")"
      [[ $(awk -F, 'NR > 1 && $12 == "ok"' "$csv" | wc -l) -eq 2 ]] || fail "resume lost rows: $(cat "$csv")"
    fi
    ;;
  demo-quick)
    "$root/scripts/demo.sh" --quick --no-build --no-install --out "$tmp/demo" >"$tmp/log" 2>&1 ||
      fail "demo failed: $(cat "$tmp/log")"
    for p in none py2 py3; do
      grep -q "^$p " "$tmp/log" || fail "no table row for $p: $(cat "$tmp/log")"
      [[ $(jq -r --arg p "$p" '.points[] | select(.policy == $p) | .status' "$tmp/demo/summary.json") == ok ]] ||
        fail "$p not ok in summary.json"
    done
    grep -q 'p50 ms' "$tmp/log" || fail "no table header"
    expect_png "$tmp/demo/latency-percentiles.png"
    ;;
  reference-python3)
    "$root/scripts/reference.sh" --interpreters python3 --duration 1s --no-build --out "$tmp/ref" >"$tmp/log" 2>&1 ||
      fail "reference.sh failed: $(cat "$tmp/log")"
    row=$(awk -F'\t' '$1 == "python3"' "$tmp/ref/table.tsv")
    [[ -n "$row" ]] || fail "no python3 row: $(cat "$tmp/log")"
    awk -F'\t' '{ exit !($3 + 0 > 0 && $6 == "py3" && $7 + 0 > 0) }' <<<"$row" || fail "incomplete row: $row"
    ;;
  reference-eventloop)
    "$root/scripts/reference.sh" --interpreters python3 --io-model eventloop --duration 1s --no-build \
      --out "$tmp/ref" >"$tmp/log" 2>&1 || fail "reference.sh failed: $(cat "$tmp/log")"
    row=$(awk -F'\t' '$1 == "python3"' "$tmp/ref/table.tsv")
    [[ -n "$row" ]] || fail "no python3 row: $(cat "$tmp/log")"
    awk -F'\t' '{ exit !($3 + 0 > 0 && $6 == "py3" && $7 + 0 > 0) }' <<<"$row" || fail "incomplete row: $row"
    [[ $(jq -r .server.config.io_model "$tmp/ref/emulated-py3/point.json") == eventloop ]] ||
      fail "the emulated server did not run the event loop"
    grep -q 'SelectorEventLoop' "$tmp/ref/real-python3/server.err" ||
      fail "the real server was not the asyncio one: $(cat "$tmp/ref/real-python3/server.err")"
    ;;
  sweep-io-model)
    cat >"$tmp/models.sh" <<'SWEEP'
policies="none"
io_models="threads eventloop"
connections="1 3"
duration="1s"
warmup="0.2s"
SWEEP
    "$root/scripts/sweep.sh" "$tmp/models.sh" --out "$tmp/out" --no-build >"$tmp/log" 2>&1 ||
      fail "sweep failed: $(cat "$tmp/log")"
    csv="$tmp/out/sweep.csv"
    [[ $(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
      $c["status"] == "ok" { print $c["io_model"] "/" $c["connections"] }' "$csv" | sort | tr '\n' ' ') == \
      "eventloop/1 eventloop/3 threads/1 threads/3 " ]] || fail "unexpected points: $(cat "$csv")"
    for f in "$tmp"/out/points/*eventloop*/point.json; do
      [[ $(jq -r .server.config.io_model "$f") == eventloop ]] || fail "$f: not served by the event loop"
    done
    expect_png "$tmp/out/latency-vs-connections.png"
    ;;
  *) fail "unknown case '$1'" ;;
esac
echo "ok: $1"
