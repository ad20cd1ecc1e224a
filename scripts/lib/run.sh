# shellcheck shell=bash disable=SC2034 # arrays go by name; TAKEN and RUNNER_USAGE to the caller
# The measurement runner shared by demo.sh (also as docker-demo.sh), sweep.sh and reference.sh.
# Source it after common.sh (and docker.sh for the docker backend); do not run it.
#
# A plan (written by `cdata plan`) lists points; run_plan measures those not done yet, one fresh
# server each (port 0, the port from its ready line) and convoy-client against it, and leaves
# OUT/points/ID/point.json per point. CONVOY_BACKEND=local runs the programs here (pinned with
# taskset to SERVER_CPUS and CLIENT_CPUS), docker runs each in its own container (lib/docker.sh).

CONVOY_BACKEND=${CONVOY_BACKEND:-local}

# read_ready FILE — the port of the ready line `listening HOST:PORT` in FILE, in READY_PORT;
# returns 1 when there is none (yet).
read_ready() {
  local line
  while IFS= read -r line; do
    if [[ "$line" =~ ^listening\ .*:([0-9]+)$ ]]; then
      READY_PORT=${BASH_REMATCH[1]}
      return 0
    fi
  done <"$1"
  return 1
}

# ready_port FILE PID — waits up to 15 s, while PID lives, for the ready line in FILE. Sets
# READY_PORT; returns 1 when PID ended or stayed silent.
ready_port() {
  local file=$1 pid=$2 i
  for ((i = 0; i < 300; i++)); do
    read_ready "$file" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# start_server DIR CMD... — CMD in the background (pinned to SERVER_CPUS), its output in
# DIR/server.{out,err}, until its ready line. Sets SERVER_PID and SERVER_PORT; returns 1 if none.
start_server() {
  local dir=$1
  shift
  local cmd=("$@")
  [[ -z "${SERVER_CPUS:-}" ]] || cmd=(taskset -c "$SERVER_CPUS" "${cmd[@]}")
  spawn "${cmd[@]}" >"$dir/server.out" 2>"$dir/server.err"
  SERVER_PID=$SPAWNED
  if ready_port "$dir/server.out" "$SERVER_PID"; then
    SERVER_PORT=$READY_PORT
    return 0
  fi
  stop_pid "$SERVER_PID" 1 || true
  SERVER_PID=""
  return 1
}

# prepare_point DIR — removes what an earlier run of the point left, notes the load average.
prepare_point() {
  mkdir -p "$1"
  rm -f "$1"/{server,client}.{json,out,err} "$1/client.hgrm" "$1/point.json"
  cat /proc/loadavg >"$1/loadavg-before" 2>/dev/null || true
}

# finish_point DIR STARTED CLIENT_RC SERVER_RC TIMEOUT [--no-stats] — DIR/point.json and the
# outcome on one line; returns 1 when the point failed.
finish_point() {
  cdata finish "$1" --started "$2" --client-rc "$3" --server-rc "$4" --timeout "$5" "${@:6}"
}

# measure_local DIR TIMEOUT SERVER_CMD_VAR CLIENT_ARGS_VAR [--no-stats] — one measurement here:
# the server command in the array named SERVER_CMD_VAR, convoy-client with the arguments in
# CLIENT_ARGS_VAR against it for at most TIMEOUT s, the server stopped, DIR/point.json written.
measure_local() {
  local dir=$1 timeout=$2
  local -n _server_cmd=$3 _client_args=$4
  prepare_point "$dir"
  local started=0 crc=none src=none
  if start_server "$dir" "${_server_cmd[@]}"; then
    started=1 crc=0 src=0
    local cmd=("$CLIENT_BIN" --port "$SERVER_PORT" --json "$dir/client.json" --hgrm "$dir/client.hgrm"
      "${_client_args[@]}")
    [[ -z "${CLIENT_CPUS:-}" ]] || cmd=(taskset -c "$CLIENT_CPUS" "${cmd[@]}")
    run timeout --kill-after=5 "$timeout" "${cmd[@]}" >"$dir/client.out" 2>"$dir/client.err" || crc=$?
    stop_pid "$SERVER_PID" || src=$?
    SERVER_PID=""
  fi
  finish_point "$dir" "$started" "$crc" "$src" "$timeout" "${@:5}"
}

# measure_planned DIR TIMEOUT — the point in DIR as its plan says (server.args, client.args).
measure_planned() {
  local dir=$1 timeout=$2 server_args=() client_args=()
  mapfile -d '' -t server_args <"$dir/server.args"
  mapfile -d '' -t client_args <"$dir/client.args"
  if [[ "$CONVOY_BACKEND" == docker ]]; then
    measure_docker "$dir" "$((timeout + 30))" server_args client_args
  else
    local server_cmd=("$SERVER_BIN" --port 0 --stats "$dir/server.json" "${server_args[@]}")
    measure_local "$dir" "$timeout" server_cmd client_args
  fi
}

# plan_points OUT CDATA_PLAN_ARGS... — writes OUT's plan (cdata plan) and OUT/todo, its list.
plan_points() {
  local out=$1
  shift
  cdata plan --out "$out" "$@" >"$out/todo.tmp" || die "could not write the plan in $out"
  mv "$out/todo.tmp" "$out/todo"
}

# run_plan OUT — measures every point of OUT/todo not done before, one progress line each;
# returns 1 when any failed. A rerun measures again only what failed or was never measured.
run_plan() {
  local out=$1 total i=0 failed=0 id state timeout label
  total=$(grep -c . "$out/todo" || true)
  while IFS=$'\t' read -r -u 3 id state timeout label; do
    i=$((i + 1))
    if [[ "$state" == "done" ]]; then
      printf '[%d/%d] %s: done before, skipped\n' "$i" "$total" "$label"
      continue
    fi
    printf '[%d/%d] %s: ' "$i" "$total" "$label"
    measure_planned "$out/points/$id" "$timeout" || failed=$((failed + 1))
  done 3<"$out/todo"
  ((failed == 0))
}

# --- What demo.sh and sweep.sh share: the options of the runner, and the programs it runs.

RUN_BUILD=1 RUN_DOCKER=0 RUN_PRIVATE=0 RUN_IMAGE="" RUN_SERVER_CPUS=unset RUN_CLIENT_CPUS=unset
RUNNER_USAGE="  --server-cpus L   pin the server to these CPUs (a list such as 0 or 0-2)
  --client-cpus L   pin the client to these CPUs
  --no-build        use existing binaries (CONVOY_BIN_DIR or build/release), or the image as it is
  --docker          server and client in two containers from the convoy image (built first);
                    the CPUs then default to \$SERVER_CPUS and \$CLIENT_CPUS, else 0 and 1
  --image NAME      with --docker: the image (default \$CONVOY_IMAGE or convoy:latest)
  --private-engine  with --docker: always start a private dockerd (needs root)"

# runner_option "$@" — takes one of the runner's options; TAKEN = how many arguments it used
# (returns 1 when $1 is not one of them).
runner_option() {
  TAKEN=1
  case "$1" in
    --server-cpus) need "$@"; RUN_SERVER_CPUS=$2 TAKEN=2 ;;
    --client-cpus) need "$@"; RUN_CLIENT_CPUS=$2 TAKEN=2 ;;
    --image) need "$@"; RUN_IMAGE=$2 TAKEN=2 ;;
    --no-build) RUN_BUILD=0 ;;
    --docker) RUN_DOCKER=1 ;;
    --private-engine) RUN_PRIVATE=1 ;;
    *) return 1 ;;
  esac
}

# runner_check — checks the runner's options and sets CONVOY_BACKEND, SERVER_CPUS, CLIENT_CPUS.
runner_check() {
  if ((RUN_DOCKER)); then
    local second=1
    (($(nproc) > 1)) || second=0
    [[ "$RUN_SERVER_CPUS" != unset ]] || RUN_SERVER_CPUS=${SERVER_CPUS-0}
    [[ "$RUN_CLIENT_CPUS" != unset ]] || RUN_CLIENT_CPUS=${CLIENT_CPUS-$second}
    CONVOY_BACKEND=docker CONVOY_IMAGE=${RUN_IMAGE:-$CONVOY_IMAGE}
  else
    [[ -z "$RUN_IMAGE" && $RUN_PRIVATE -eq 0 ]] || die "--image and --private-engine go with --docker"
    [[ "$RUN_SERVER_CPUS" != unset ]] || RUN_SERVER_CPUS=""
    [[ "$RUN_CLIENT_CPUS" != unset ]] || RUN_CLIENT_CPUS=""
    CONVOY_BACKEND=local
  fi
  check_cpus --server-cpus "$RUN_SERVER_CPUS"
  check_cpus --client-cpus "$RUN_CLIENT_CPUS"
  SERVER_CPUS=$RUN_SERVER_CPUS CLIENT_CPUS=$RUN_CLIENT_CPUS
}

# prepare_programs INSTALL — what the points run: the release build (after install-deps.sh when
# INSTALL=1), or with --docker an engine and the image.
prepare_programs() {
  if [[ "$CONVOY_BACKEND" == docker ]]; then
    docker_engine "$RUN_PRIVATE"
    ((RUN_BUILD == 0)) || docker_build_image
    docker_image_ready
    return
  fi
  (($1 == 0)) || run "$CONVOY_ROOT/scripts/install-deps.sh"
  if ((RUN_BUILD)); then
    note "building the release binaries"
    build_release
  else
    find_binaries || die "no binaries found; build them or drop --no-build"
  fi
}

# prepare_results OUT — OUT ready for the backend, and OUT/policies.json: what the server about
# to run lists (`convoy-server --list-policies --json`).
prepare_results() {
  if [[ "$CONVOY_BACKEND" == docker ]]; then
    docker_results "$1"
    docker_list_policies >"$1/policies.json" || die "$CONVOY_IMAGE cannot list its policies"
  else
    list_policies "$SERVER_BIN" --json >"$1/policies.json" || die "$SERVER_BIN cannot list its policies"
  fi
}

# server_has_option OPTION — true when the server about to run lists OPTION in its --help.
server_has_option() {
  local help
  if [[ "$CONVOY_BACKEND" == docker ]]; then
    help=$(docker_server_help 2>/dev/null) || true
  else
    help=$(timeout 20 "$SERVER_BIN" --help 2>/dev/null) || true
  fi
  grep -qE -- "(^|[[:space:],])$1([[:space:]=,]|\$)" <<<"$help"
}

# server_path OUT FILE — FILE under OUT as the server names it: OUT/FILE here, results/FILE in
# its container.
server_path() { if [[ "$CONVOY_BACKEND" == docker ]]; then echo "results/$2"; else echo "$1/$2"; fi; }

# add_server_args DIR ARGS... — ARGS after the planned arguments of the point in DIR.
add_server_args() {
  local dir=$1
  shift
  printf '%s\0' "$@" >>"$dir/server.args"
}

# runner_notes — what the plan records about where and how its points run.
runner_notes() {
  RUN_NOTES=(--note "server_cpus=$SERVER_CPUS" --note "client_cpus=$CLIENT_CPUS"
    --note "backend=$CONVOY_BACKEND")
  [[ "$CONVOY_BACKEND" != docker ]] || RUN_NOTES+=(--note "image=$CONVOY_IMAGE")
}
