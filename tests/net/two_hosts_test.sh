#!/usr/bin/env bash
# two_hosts_test.sh DELAY_MS — convoy-server and convoy-client on two hosts over a real network
# path: two network namespaces joined by a veth pair, the server on 10.77.0.1, the client on
# 10.77.0.2, and DELAY_MS of one-way delay added by tc netem on the client's side (0: none).
# Checks that every echo is intact, that the server warns once about its non-loopback address,
# and the convoy signature: under py3 (5 ms switch interval, one fib thread, 2 ms think time)
# the median round trip is at least what is left of the interval after the think time, or the
# delay if that is longer (the I/O thread's wait for the lock after its send began an interval
# before the next request left the client; when it wins the lock back from recv before the fib
# thread wakes, that is the only wait), and at least 2 ms above the round trip without a lock,
# which is within 2 ms of the delay. Exits 77 (CTest: skipped) with the reason when it cannot run here (not root, no network
# namespaces, no netem). Binaries: CONVOY_SERVER_BIN, CONVOY_CLIENT_BIN. CONVOY_NET_SLOWDOWN
# scales the upper bounds and deadlines for sanitizer builds.
set -euo pipefail

delay_ms=${1:?usage: two_hosts_test.sh DELAY_MS}
[[ "$delay_ms" =~ ^[0-9]+$ ]] || { echo "FAIL: DELAY_MS must be a whole number of ms" >&2; exit 2; }
server_bin=${CONVOY_SERVER_BIN:?set CONVOY_SERVER_BIN}
client_bin=${CONVOY_CLIENT_BIN:?set CONVOY_CLIENT_BIN}
slow=${CONVOY_NET_SLOWDOWN:-1}
switch_interval_ms=5
think_ms=2

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# Names unique to this run (a veth name has at most 15 characters).
tag="cv$$"
ns_server="${tag}s"
ns_client="${tag}c"
tmp=$(mktemp -d)
server_pid=""

cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  ip netns del "$ns_server" 2>/dev/null || true
  ip netns del "$ns_client" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

[[ $EUID -eq 0 ]] || skip "needs root for network namespaces (ip netns)"
command -v ip >/dev/null || skip "no ip command (iproute2)"
if ((delay_ms > 0)); then command -v tc >/dev/null || skip "no tc command (iproute2)"; fi

# Namespaces left by a run that was killed (its PID is gone) are removed first.
for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
  if [[ "$ns" =~ ^cv([0-9]+)[sc]$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
    ip netns del "$ns" 2>/dev/null || true
  fi
done

ip netns add "$ns_server" 2>"$tmp/err" || skip "ip netns add failed: $(head -n 1 "$tmp/err")"
ip netns add "$ns_client" 2>"$tmp/err" || skip "ip netns add failed: $(head -n 1 "$tmp/err")"
ip link add "${tag}a" netns "$ns_server" type veth peer name "${tag}b" netns "$ns_client" \
  2>"$tmp/err" || skip "cannot create a veth pair: $(head -n 1 "$tmp/err")"
ip -n "$ns_server" addr add 10.77.0.1/24 dev "${tag}a"
ip -n "$ns_client" addr add 10.77.0.2/24 dev "${tag}b"
for ns in "$ns_server" "$ns_client"; do ip -n "$ns" link set lo up; done
ip -n "$ns_server" link set "${tag}a" up
ip -n "$ns_client" link set "${tag}b" up
if ((delay_ms > 0)); then
  tc -n "$ns_client" qdisc add dev "${tag}b" root netem delay "${delay_ms}ms" 2>"$tmp/err" ||
    skip "tc netem is not available (a kernel without sch_netem?): $(head -n 1 "$tmp/err")"
fi

# Starts convoy-server in the server's namespace on 10.77.0.1; sets server_pid and port.
start_server() {
  : >"$tmp/server.out"
  ip netns exec "$ns_server" "$server_bin" --bind 10.77.0.1 --port 0 --cpu-threads 1 "$@" \
    --stats "$tmp/stats.json" >"$tmp/server.out" 2>"$tmp/server.err" &
  server_pid=$!
  local deadline=$((SECONDS + 20 * slow))
  until grep -q '^listening ' "$tmp/server.out"; do
    kill -0 "$server_pid" 2>/dev/null || fail "convoy-server exited: $(cat "$tmp/server.err")"
    ((SECONDS < deadline)) || fail "no ready line from convoy-server: $(cat "$tmp/server.err")"
    sleep 0.05
  done
  port=$(sed -n 's/^listening 10\.77\.0\.1:\([0-9]*\)$/\1/p' "$tmp/server.out")
  [[ -n "$port" ]] || fail "unexpected ready line: $(cat "$tmp/server.out")"
}

stop_server() {
  kill -TERM "$server_pid"
  local deadline=$((SECONDS + 10 * slow))
  while kill -0 "$server_pid" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "convoy-server still running 10 s after SIGTERM"
    sleep 0.05
  done
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=""
  ((rc == 0)) || fail "convoy-server exited $rc: $(cat "$tmp/server.err")"
}

# One measurement: the client in its namespace, closed loop with 2 ms think time (the convoy
# pattern), against a server with the given options. Writes the median round trip in ms to
# $tmp/NAME.p50. (Run in this shell, not in $(...), so that cleanup knows the server's PID.)
measure() {
  local name=$1
  shift
  start_server "$@"
  local rc=0
  timeout $((60 * slow)) ip netns exec "$ns_client" "$client_bin" --host 10.77.0.1 -p "$port" \
    --think "${think_ms}ms" -n 150 -w 20 --json "$tmp/$name.json" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
    rc=$?
  stop_server
  ((rc == 0)) || fail "$name: convoy-client exited $rc: $(cat "$tmp/$name.err")"
  warnings=$(grep -c ' warn' "$tmp/server.err" || true)
  [[ "$warnings" == 1 ]] || fail "$name: expected one warning line, got: $(cat "$tmp/server.err")"
  grep ' warn' "$tmp/server.err" | grep -q 'not a loopback address' ||
    fail "$name: the warning does not name the non-loopback address: $(cat "$tmp/server.err")"
  python3 - "$tmp/$name.json" "$tmp/stats.json" >"$tmp/$name.p50" <<'PY' || fail "$name: unexpected results (above)"
import json, sys
client = json.load(open(sys.argv[1]))
stats = json.load(open(sys.argv[2]))
results = client["results"]
bad = {k: v for k, v in results["errors"].items() if v}
assert results["status"] == "ok" and not bad, f"errors: {bad}"
assert results["requests"]["completed"] == 150, results["requests"]
assert client["config"]["host"] == "10.77.0.1", client["config"]["host"]
assert stats["connections"]["served"] == 1, stats["connections"]
print(f'{results["latency"]["p50_us"] / 1000:.3f}')
PY
  [[ -s "$tmp/$name.p50" ]] || fail "$name: no median"
}

measure py3 --policy py3 --switch-interval "${switch_interval_ms}ms"
measure none --policy none
py3_ms=$(cat "$tmp/py3.p50")
none_ms=$(cat "$tmp/none.p50")
echo "one-way delay ${delay_ms} ms: p50 py3 ${py3_ms} ms, none ${none_ms} ms"

python3 - "$py3_ms" "$none_ms" "$delay_ms" "$switch_interval_ms" "$think_ms" "$slow" <<'PY'
import sys
py3, none, delay, interval, think, slow = map(float, sys.argv[1:])
# Half a millisecond of slack for the client's own turn-around between reply and next request.
floor = max(interval - think, delay) - 0.5
assert py3 >= floor, f"py3 p50 {py3} ms is below the rest of the switch interval ({floor} ms)"
assert py3 >= none + 2, f"py3 p50 {py3} ms is not 2 ms above no lock ({none} ms)"
assert delay <= none <= delay + 2 * slow, f"none p50 {none} ms is not within 2 ms of the {delay} ms delay"
PY
echo "ok"
