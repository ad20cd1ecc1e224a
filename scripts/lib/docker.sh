# shellcheck shell=bash
# Docker for demo.sh --docker (docker-demo.sh) and docker-smoke.sh. Source it after common.sh and
# run.sh; do not run it. A private dockerd, local Debian base images made with debootstrap when
# no registry answers, the image, and the docker backend of the runner: one measurement as two
# containers (server and client, each on its own CPUs). Every wait is bounded; the containers and
# the private engine started here are removed at the end, by name and by PID.

CONVOY_IMAGE=${CONVOY_IMAGE:-convoy:latest}
# Images, build cache and the debootstrap tarballs survive between runs here.
CONVOY_DOCKER_CACHE=${CONVOY_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/convoy/docker}
# Debian's docker.io client: it speaks to the engine of the same release and builds without buildx.
if [[ -z "${DOCKER_CLI:-}" ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER_CLI=/usr/bin/docker; else DOCKER_CLI=$(command -v docker || echo docker); fi
fi
export DOCKER_BUILDKIT=0

ENGINE_DIR="" DOCKERD_PID="" ENGINE_WHY="" ROOTFS_DIR="" CONVOY_DOCKER_OUT=""
CONVOY_CONTAINERS=() CONTAINER_USER=() DOCKER_RUN=()

elapsed() { printf '%d:%02d' $((SECONDS / 60)) $((SECONDS % 60)); }
dk() { run timeout "$1" "$DOCKER_CLI" "${@:2}"; }

# docker_cleanup — at the end: the containers started here, then the private engine, then the
# results handed back to the caller. (Registered once; each step is a no-op when not needed.)
docker_cleanup() {
  local c
  for c in "${CONVOY_CONTAINERS[@]}"; do dk 30 rm -f "$c" >/dev/null 2>&1 || true; done
  CONVOY_CONTAINERS=()
  engine_stop
  if [[ -n "$CONVOY_DOCKER_OUT" && -d "$CONVOY_DOCKER_OUT" ]]; then results_handback "$CONVOY_DOCKER_OUT"; fi
}
on_exit docker_cleanup

# install_docker_tools — docker.io, debootstrap and docker-compose from Debian when missing.
# Returns 1 (the reason in ENGINE_WHY) when they are missing and cannot be installed.
install_docker_tools() {
  local missing=() p log
  for p in docker.io debootstrap docker-compose; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    ENGINE_WHY="${missing[*]} not installed, and installing them needs root"
    return 1
  fi
  note "installing ${missing[*]}"
  log=$(mktemp)
  if ! { DEBIAN_FRONTEND=noninteractive run timeout 300 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive run timeout 600 apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"; } >"$log" 2>&1; then
    ENGINE_WHY="apt-get could not install ${missing[*]}: $(last_line "$log")"
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

# pids_under DIR — processes whose command line names DIR (the private dockerd's containerd and
# shims: DIR is the engine's own fresh exec root).
pids_under() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/} pid=${pid%/cmdline}
    [[ "$pid" == "$$" ]] && continue
    { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$1" && echo "$pid"
  done
  return 0
}

# engine_start — a private dockerd: data root in the cache, exec root and socket in a fresh
# directory under /tmp (short: socket paths are limited to 108 bytes), no bridge and no iptables
# (everything runs with the host's network). Exports DOCKER_HOST. Returns 1 with ENGINE_WHY set
# when no engine can run here, 2 when a leftover engine holds the cache.
engine_start() {
  ENGINE_WHY=""
  [[ $(id -u) -eq 0 ]] || { ENGINE_WHY="starting a private dockerd needs root"; return 1; }
  command -v dockerd >/dev/null || { ENGINE_WHY="dockerd is not installed"; return 1; }
  [[ -x "$DOCKER_CLI" ]] || { ENGINE_WHY="no docker client"; return 1; }
  local data="$CONVOY_DOCKER_CACHE/data" pidfile="$CONVOY_DOCKER_CACHE/dockerd.pid" old i
  mkdir -p "$data"
  old=$(cat "$pidfile" 2>/dev/null || true)
  if [[ -n "$old" ]] && kill -0 "$old" 2>/dev/null && tr '\0' ' ' <"/proc/$old/cmdline" | grep -qF -- "$data"; then
    ENGINE_WHY="dockerd $old (left by an earlier run?) still uses $data; stop it first (kill $old)"
    return 2
  fi
  ENGINE_DIR=$(mktemp -d /tmp/convoy-docker.XXXXXX)
  export DOCKER_HOST="unix://$ENGINE_DIR/docker.sock"
  dockerd --data-root "$data" --exec-root "$ENGINE_DIR/x" -H "$DOCKER_HOST" \
    --pidfile "$ENGINE_DIR/dockerd.pid" --iptables=false --ip-forward=false --bridge=none \
    >"$ENGINE_DIR/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  echo "$DOCKERD_PID" >"$pidfile"
  for ((i = 0; i < 60; i++)); do
    if timeout 10 "$DOCKER_CLI" version >/dev/null 2>&1; then
      engine_prune
      return 0
    fi
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.5
  done
  ENGINE_WHY="dockerd did not come up: $(grep -E 'level=(error|fatal)|^failed' "$ENGINE_DIR/dockerd.log" |
    tail -n 1 | sed 's/^.*msg=//')"
  [[ "$ENGINE_WHY" == *": " ]] && ENGINE_WHY+="$(last_line "$ENGINE_DIR/dockerd.log")"
  engine_stop
  return 1
}

# Leftovers of an interrupted run; convoy images that a newer build replaced; after two weeks,
# build layers nothing uses. (The current build stage is untagged too: a plain prune would throw
# the compiled layer away.)
engine_prune() {
  dk 60 container prune -f >/dev/null 2>&1 || true
  dk 120 image prune -f --filter label=org.opencontainers.image.title=convoy >/dev/null 2>&1 || true
  dk 120 image prune -f --filter until=336h >/dev/null 2>&1 || true
}

# engine_stop — stops the private dockerd (SIGTERM, 30 s, then SIGKILL) and whatever it started,
# unmounts and deletes its exec root and any half-made base image. Safe to call twice.
engine_stop() {
  engine_stop_rootfs
  [[ -n "$ENGINE_DIR" ]] || return 0
  if [[ -n "$DOCKERD_PID" ]]; then stop_pid "$DOCKERD_PID" 30 || true; fi
  local pid
  for pid in $(pids_under "$ENGINE_DIR"); do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in $(pids_under "$ENGINE_DIR"); do kill -KILL "$pid" 2>/dev/null || true; done
  unmount_under "$ENGINE_DIR"
  if [[ -n "${KEEP_ENGINE_LOG:-}" && -f "$ENGINE_DIR/dockerd.log" ]]; then
    cp "$ENGINE_DIR/dockerd.log" "$KEEP_ENGINE_LOG" 2>/dev/null || true
  fi
  rm -rf --one-file-system "$ENGINE_DIR"
  rm -f "$CONVOY_DOCKER_CACHE/dockerd.pid"
  ENGINE_DIR="" DOCKERD_PID=""
}

# unmount_under DIR — lazily unmounts whatever is still mounted below DIR, deepest first.
unmount_under() {
  local m
  while read -r m; do
    if [[ "$m/" == "$1/"* ]]; then umount -l "$m" 2>/dev/null || true; fi
  done < <(findmnt -rn -o TARGET 2>/dev/null | sort -r)
}

# debootstrap_base ROOT MIRROR — a minimal bookworm in ROOT whose apt uses MIRROR (and the host's
# security archive), set up as Debian's own images are: no services started by package scripts,
# no apt caches kept, no fsync per unpacked file.
debootstrap_base() {
  local root=$1 mirror=$2 security log="$CONVOY_DOCKER_CACHE/debootstrap.log"
  security=$(cdata apt-source bookworm-security || true)
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  if ! run timeout 600 debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1; then
    ENGINE_WHY="no base image: no registry, and debootstrap from $mirror failed: $(last_line "$log")"
    return 1
  fi
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$mirror"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [[ -n "$security" ]]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$security"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$root/etc/apt/sources.list.d/debian.sources"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };\n' \
    >"$root/etc/apt/apt.conf.d/docker-clean"
  printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
}

# slim_base ROOT — the slim variant: no documentation, manuals or translations, and dpkg told
# to skip them.
slim_base() {
  local root=$1
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
SLIM
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,info,groff,lintian,linda,locale}/*
}

# make_local_base — debian:bookworm and debian:bookworm-slim from one debootstrap of the host's
# Debian mirror (CONVOY_DEBIAN_MIRROR overrides it). The tarballs are kept in the cache.
make_local_base() {
  local full="$CONVOY_DOCKER_CACHE/debian-bookworm.tar" slim="$CONVOY_DOCKER_CACHE/debian-bookworm-slim.tar"
  if [[ ! -s "$full" || ! -s "$slim" ]]; then
    command -v debootstrap >/dev/null || { ENGINE_WHY="no base image and no debootstrap"; return 1; }
    local mirror
    mirror=${CONVOY_DEBIAN_MIRROR:-$(cdata apt-source bookworm || true)}
    mirror=${mirror:-http://deb.debian.org/debian}
    ROOTFS_DIR=$(mktemp -d /var/tmp/convoy-rootfs.XXXXXX)
    note "making debian:bookworm with debootstrap from $mirror (about a minute)"
    debootstrap_base "$ROOTFS_DIR" "$mirror" || { engine_stop_rootfs; return 1; }
    tar -C "$ROOTFS_DIR" --numeric-owner -cf "$full.tmp" . && mv "$full.tmp" "$full"
    slim_base "$ROOTFS_DIR"
    tar -C "$ROOTFS_DIR" --numeric-owner -cf "$slim.tmp" . && mv "$slim.tmp" "$slim"
    engine_stop_rootfs
  fi
  local tag
  for tag in bookworm bookworm-slim; do
    dk 30 image inspect "debian:$tag" >/dev/null 2>&1 && continue
    dk 300 import --change 'CMD ["bash"]' "$CONVOY_DOCKER_CACHE/debian-$tag.tar" "debian:$tag" >/dev/null ||
      { ENGINE_WHY="docker import of debian-$tag.tar failed"; return 1; }
  done
}
engine_stop_rootfs() {
  [[ -n "$ROOTFS_DIR" ]] || return 0
  unmount_under "$ROOTFS_DIR"
  rm -rf --one-file-system "$ROOTFS_DIR"
  ROOTFS_DIR=""
}

# ensure_base_images — debian:bookworm and debian:bookworm-slim: already there, pulled, or made
# locally. Returns 1 (ENGINE_WHY) when none of these works.
ensure_base_images() {
  local tag absent=0
  for tag in bookworm bookworm-slim; do
    dk 30 image inspect "debian:$tag" >/dev/null 2>&1 && continue
    dk 180 pull -q "debian:$tag" >/dev/null 2>&1 && continue
    absent=1
  done
  ((absent == 0)) || make_local_base
}

# build_image — builds CONVOY_IMAGE from the checkout (log in BUILD_LOG).
build_image() {
  local rev
  rev=$(git -C "$CONVOY_ROOT" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
  dk "${BUILD_TIMEOUT:-1200}" build --network host --build-arg "CONVOY_REVISION=$rev" \
    -t "$CONVOY_IMAGE" "$CONVOY_ROOT" >"${BUILD_LOG:-/dev/null}" 2>&1
}

# container_user_args DIR — how the containers may write into the host directory DIR: as the
# calling user when that is not root; as root's caller, the image's own non-root user, with DIR
# handed to it for the run (results_handback gives it back).
container_user_args() {
  CONTAINER_USER=()
  if [[ $(id -u) -ne 0 ]]; then
    CONTAINER_USER=(--user "$(id -u):$(id -g)")
  else
    chown -R 10001:10001 "$1"
  fi
}
results_handback() {
  [[ $(id -u) -eq 0 ]] || return 0
  chown -R "$(stat -c %u:%g "$(dirname "$1")")" "$1"
}

# record_docker_context FILE — the engine, the image and the CPU sets, next to the results.
record_docker_context() {
  {
    echo "image: $CONVOY_IMAGE $(timeout 30 "$DOCKER_CLI" image inspect -f '{{.Id}} revision={{index .Config.Labels "org.opencontainers.image.revision"}}' "$CONVOY_IMAGE" 2>/dev/null)"
    echo "server cpus: ${SERVER_CPUS:-all}; client cpus: ${CLIENT_CPUS:-all}"
    echo "host: $(uname -srm), $(nproc) CPUs online"
    timeout 30 "$DOCKER_CLI" version --format 'engine: {{.Server.Version}} (API {{.Server.APIVersion}}), client: {{.Client.Version}}' 2>/dev/null || true
  } >"$1"
}

# --- The docker backend of the runner (CONVOY_BACKEND=docker).

# docker_engine PRIVATE — the engine the docker client reaches, or (PRIVATE=1, or none answers)
# a private dockerd for the run. Dies when there is none.
docker_engine() {
  if (($1 == 0)) && timeout 10 "$DOCKER_CLI" version >/dev/null 2>&1; then
    note "using the Docker engine at ${DOCKER_HOST:-the default socket}"
    return 0
  fi
  install_docker_tools || die "no Docker engine: $ENGINE_WHY"
  engine_start || die "no Docker engine: $ENGINE_WHY"
  note "started a private dockerd ($DOCKERD_PID); it stops when the run ends"
}

# docker_build_image — the base images and CONVOY_IMAGE; dies with the end of the log on failure.
docker_build_image() {
  ensure_base_images || die "$ENGINE_WHY"
  note "building $CONVOY_IMAGE (the first build takes several minutes)"
  local log="$CONVOY_DOCKER_CACHE/build.log"
  BUILD_LOG=$log build_image || { tail -n 20 "$log" >&2; die "docker build failed (log: $log)"; }
}
docker_image_ready() {
  dk 30 image inspect "$CONVOY_IMAGE" >/dev/null 2>&1 || die "no image $CONVOY_IMAGE"
}

# docker_results OUT — OUT mounted as results/ in every container, writable by their user.
docker_results() {
  CONVOY_DOCKER_OUT=$1
  container_user_args "$1"
  record_docker_context "$1/docker.txt"
  DOCKER_RUN=(--init --network host -v "$1:/opt/convoy/results" "${CONTAINER_USER[@]}")
}
docker_list_policies() {
  timeout 60 "$DOCKER_CLI" run --rm --network host "$CONVOY_IMAGE" convoy-server --list-policies --json
}
docker_server_help() { timeout 60 "$DOCKER_CLI" run --rm --network host "$CONVOY_IMAGE" convoy-server --help; }

# docker_server DIR NAME SERVER_ARGS... — convoy-server detached in container NAME (pinned to
# SERVER_CPUS) until its ready line; SERVER_PORT from it. Returns 1 (logs in DIR) otherwise.
docker_server() {
  local dir=$1 name=$2 i cpus=()
  shift 2
  [[ -z "${SERVER_CPUS:-}" ]] || cpus=(--cpuset-cpus "$SERVER_CPUS")
  CONVOY_CONTAINERS+=("$name")
  dk 60 run -d --name "$name" "${DOCKER_RUN[@]}" "${cpus[@]}" "$CONVOY_IMAGE" convoy-server "$@" \
    >/dev/null 2>"$dir/server.err" || return 1
  for ((i = 0; i < 100; i++)); do
    dk 10 logs "$name" >"$dir/server.out" 2>/dev/null || true
    if read_ready "$dir/server.out"; then
      SERVER_PORT=$READY_PORT
      return 0
    fi
    [[ "$(timeout 10 "$DOCKER_CLI" inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" == true ]] || break
    sleep 0.2
  done
  dk 10 logs "$name" >"$dir/server.out" 2>"$dir/server.err" || true
  return 1
}

# docker_stop NAME DIR — stops a server container (the init passes SIGTERM on) and keeps its
# logs; its exit status in DOCKER_EXIT ("?" when unknown).
docker_stop() {
  dk 30 stop -t 5 "$1" >/dev/null 2>&1 || true
  DOCKER_EXIT=$(timeout 30 "$DOCKER_CLI" wait "$1" 2>/dev/null || echo "?")
  dk 10 logs "$1" >"$2/server.out" 2>"$2/server.err" || true
}

# measure_docker DIR TIMEOUT SERVER_ARGS_VAR CLIENT_ARGS_VAR — measure_local's counterpart: the
# server and the client in two containers, with OUT (docker_results) as their results/.
measure_docker() {
  local dir=$1 timeout=$2
  local -n _docker_sargs=$3 _docker_cargs=$4
  local rdir="results/${dir#"$CONVOY_DOCKER_OUT"/}" tag="convoy-$$-${dir##*/}" ccpus=()
  prepare_point "$dir"
  [[ $(id -u) -ne 0 ]] || chown 10001:10001 "$dir"
  [[ -z "${CLIENT_CPUS:-}" ]] || ccpus=(--cpuset-cpus "$CLIENT_CPUS")
  local started=0 crc=none src=none
  # --duration: a server container that outlives this script stops by itself within the hour.
  if docker_server "$dir" "$tag-server" --port 0 --stats "$rdir/server.json" --duration 3600s \
    "${_docker_sargs[@]}"; then
    started=1 crc=0
    CONVOY_CONTAINERS+=("$tag-client")
    dk "$timeout" run --rm --name "$tag-client" "${DOCKER_RUN[@]}" "${ccpus[@]}" "$CONVOY_IMAGE" \
      convoy-client --port "$SERVER_PORT" --json "$rdir/client.json" --hgrm "$rdir/client.hgrm" \
      "${_docker_cargs[@]}" >"$dir/client.out" 2>"$dir/client.err" || crc=$?
    docker_stop "$tag-server" "$dir"
    src=$DOCKER_EXIT
  fi
  dk 30 rm -f "$tag-server" "$tag-client" >/dev/null 2>&1 || true
  local kept=() c
  for c in "${CONVOY_CONTAINERS[@]}"; do [[ "$c" == "$tag"-* ]] || kept+=("$c"); done
  CONVOY_CONTAINERS=("${kept[@]}")
  finish_point "$dir" "$started" "$crc" "$src" "$timeout"
}
