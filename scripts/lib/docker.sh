# Shell functions shared by docker-demo.sh and docker-smoke.sh. Source it after common.sh; do not
# run it. A private dockerd, local Debian base images made with debootstrap when no registry
# answers, and one measurement as two containers (server and client, each on its own CPUs).
# Every wait is bounded, and everything started here is stopped by PID or by container name.

CONVOY_IMAGE=${CONVOY_IMAGE:-convoy:latest}
# Images, build cache and the debootstrap tarballs survive between runs here.
CONVOY_DOCKER_CACHE=${CONVOY_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/convoy/docker}
# Debian's docker.io client: it speaks to the engine of the same release and builds without buildx.
if [[ -z "${DOCKER_CLI:-}" ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER_CLI=/usr/bin/docker; else DOCKER_CLI=$(command -v docker || echo docker); fi
fi
export DOCKER_BUILDKIT=0

ENGINE_DIR="" DOCKERD_PID="" ENGINE_WHY="" BG_PID="" ROOTFS_DIR=""
CONVOY_CONTAINERS=()

elapsed() { printf '%d:%02d' $((SECONDS / 60)) $((SECONDS % 60)); }

# bg_wait CMD... — runs a long command (a build, debootstrap) in the background and waits for it:
# bash runs a signal's trap only between foreground commands, so Ctrl-C would otherwise wait for
# the whole build. engine_stop ends the command if the script is stopped meanwhile.
bg_wait() {
  "$@" &
  BG_PID=$!
  local rc=0
  wait "$BG_PID" || rc=$?
  BG_PID=""
  return "$rc"
}

# install_docker_tools — docker.io, debootstrap and docker-compose from Debian when missing.
# Returns 1 (the reason in ENGINE_WHY) when they are missing and cannot be installed.
install_docker_tools() {
  local missing=() p
  for p in docker.io debootstrap docker-compose; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    ENGINE_WHY="${missing[*]} not installed, and installing them needs root"
    return 1
  fi
  note "installing ${missing[*]}"
  local log
  log=$(mktemp)
  if ! { DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"; } >"$log" 2>&1; then
    ENGINE_WHY="apt-get could not install ${missing[*]}: $(last_line "$log")"
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

# pids_under DIR — processes whose command line names DIR (dockerd, its containerd and shims).
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
  if [[ $(id -u) -ne 0 ]]; then
    ENGINE_WHY="starting a private dockerd needs root"
    return 1
  fi
  command -v dockerd >/dev/null || { ENGINE_WHY="dockerd is not installed"; return 1; }
  [[ -x "$DOCKER_CLI" ]] || { ENGINE_WHY="no docker client"; return 1; }
  local data="$CONVOY_DOCKER_CACHE/data" pidfile="$CONVOY_DOCKER_CACHE/dockerd.pid"
  mkdir -p "$data"
  local old
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
  local i
  for ((i = 0; i < 60; i++)); do
    if timeout 10 "$DOCKER_CLI" version >/dev/null 2>&1; then
      # Leftovers of an interrupted run; convoy images that a newer build replaced; after two
      # weeks, build layers nothing uses. (The current build stage is untagged too: a plain
      # prune would throw the compiled layer away.)
      timeout 60 "$DOCKER_CLI" container prune -f >/dev/null 2>&1 || true
      timeout 120 "$DOCKER_CLI" image prune -f --filter label=org.opencontainers.image.title=convoy \
        >/dev/null 2>&1 || true
      timeout 120 "$DOCKER_CLI" image prune -f --filter until=336h >/dev/null 2>&1 || true
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

# engine_stop — removes the containers started here, stops the private dockerd (SIGTERM, 30 s,
# then SIGKILL) and whatever it started, unmounts and deletes the exec root. Safe to call twice.
engine_stop() {
  if [[ -n "$BG_PID" ]]; then
    kill -TERM "$BG_PID" 2>/dev/null || true
    wait "$BG_PID" 2>/dev/null || true
    BG_PID=""
  fi
  if [[ -n "$ROOTFS_DIR" ]]; then
    unmount_under "$ROOTFS_DIR"
    rm -rf --one-file-system "$ROOTFS_DIR"
    ROOTFS_DIR=""
  fi
  local c
  for c in "${CONVOY_CONTAINERS[@]}"; do
    timeout 30 "$DOCKER_CLI" rm -f "$c" >/dev/null 2>&1 || true
  done
  CONVOY_CONTAINERS=()
  [[ -n "$ENGINE_DIR" ]] || return 0
  if [[ -n "$DOCKERD_PID" ]]; then
    kill -TERM "$DOCKERD_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 300; i++)); do
      kill -0 "$DOCKERD_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
  fi
  # containerd and shims started by this dockerd name the exec root in their command lines.
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
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v d="$1/" \
    'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r)
}

# debian_source SUITE — the first Debian archive URI the host's apt uses for SUITE, if any.
debian_source() {
  local suite=$1 f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
                       if ($(i + 1) == s) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0; deb = 0; on = 1
        for (i = 1; i <= NF; i++) {
          split($i, kv, ":[ \t]*"); key = tolower(kv[1]); val = substr($i, length(kv[1]) + 2)
          gsub(/^[ \t]+/, "", val)
          if (key == "types" && val ~ /(^| )deb( |$)/) deb = 1
          if (key == "uris") { split(val, u, " "); uri = u[1] }
          if (key == "suites" && (" " val " ") ~ (" " s " ")) ok = 1
          if (key == "enabled" && val == "no") on = 0
        }
        if (deb && ok && on && uri != "") { print uri; exit } }' "$f"
  done
}

# make_local_base — debian:bookworm and debian:bookworm-slim from one debootstrap of the host's
# Debian mirror (CONVOY_DEBIAN_MIRROR overrides it). The tarballs are kept in the cache. Apt in
# the images uses the same mirror (and security archive) as the host.
make_local_base() {
  local full="$CONVOY_DOCKER_CACHE/debian-bookworm.tar" slim="$CONVOY_DOCKER_CACHE/debian-bookworm-slim.tar"
  if [[ ! -s "$full" || ! -s "$slim" ]]; then
    command -v debootstrap >/dev/null || { ENGINE_WHY="no base image and no debootstrap"; return 1; }
    local mirror security root log
    mirror=${CONVOY_DEBIAN_MIRROR:-$(debian_source bookworm | head -n 1)}
    mirror=${mirror:-http://deb.debian.org/debian}
    security=$(debian_source bookworm-security | head -n 1)
    root=$(mktemp -d /var/tmp/convoy-rootfs.XXXXXX)
    ROOTFS_DIR=$root
    log="$CONVOY_DOCKER_CACHE/debootstrap.log"
    note "making debian:bookworm with debootstrap from $mirror (about a minute)"
    # No fsync per unpacked file, in debootstrap's dpkg runs and later in the image's (as in
    # Debian's official images): several times faster, and a lost image is simply made again.
    mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
    printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
    if ! bg_wait timeout 600 debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1; then
      ENGINE_WHY="no base image: no registry, and debootstrap from $mirror failed: $(last_line "$log")"
      unmount_under "$root"
      rm -rf --one-file-system "$root"
      ROOTFS_DIR=""
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
    # As in Debian's own images: no services started by package scripts, no apt caches kept.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };\n' \
      >"$root/etc/apt/apt.conf.d/docker-clean"
    printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" --numeric-owner -cf "$full.tmp" . && mv "$full.tmp" "$full"
    # The slim variant drops documentation, manuals and translations, and tells dpkg to skip them.
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
    tar -C "$root" --numeric-owner -cf "$slim.tmp" . && mv "$slim.tmp" "$slim"
    rm -rf "$root"
    ROOTFS_DIR=""
  fi
  local tag file
  for tag in bookworm bookworm-slim; do
    file="$CONVOY_DOCKER_CACHE/debian-$tag.tar"
    timeout 30 "$DOCKER_CLI" image inspect "debian:$tag" >/dev/null 2>&1 && continue
    timeout 300 "$DOCKER_CLI" import --change 'CMD ["bash"]' "$file" "debian:$tag" >/dev/null ||
      { ENGINE_WHY="docker import of $file failed"; return 1; }
  done
}

# ensure_base_images — debian:bookworm and debian:bookworm-slim: already there, pulled, or made
# locally. Returns 1 (ENGINE_WHY) when none of these works.
ensure_base_images() {
  local tag absent=0
  for tag in bookworm bookworm-slim; do
    timeout 30 "$DOCKER_CLI" image inspect "debian:$tag" >/dev/null 2>&1 && continue
    timeout 180 "$DOCKER_CLI" pull -q "debian:$tag" >/dev/null 2>&1 && continue
    absent=1
  done
  ((absent == 0)) || make_local_base
}

# build_image [DOCKER BUILD ARGS...] — builds CONVOY_IMAGE from the checkout (log in BUILD_LOG).
build_image() {
  local rev
  rev=$(git -C "$CONVOY_ROOT" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
  bg_wait timeout "${BUILD_TIMEOUT:-1200}" "$DOCKER_CLI" build --network host --build-arg "CONVOY_REVISION=$rev" \
    -t "$CONVOY_IMAGE" "$@" "$CONVOY_ROOT" >"${BUILD_LOG:-/dev/null}" 2>&1
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

# docker_point OUT NAME PARAMS_JSON SERVER_ARGS_VAR CLIENT_ARGS_VAR — one measurement as two
# containers from CONVOY_IMAGE: convoy-server on port 0 pinned to SERVER_CPUS, convoy-client
# against it pinned to CLIENT_CPUS (empty: unpinned), both with the host's network and OUT
# mounted as their results/. Writes OUT/NAME/{server,client}.{json,out,err}, client.hgrm and
# point.json as run_point does; returns 0 for ok, 1 for failed.
docker_point() {
  local out=$1 name=$2 params=$3
  local -n _sa=$4 _ca=$5
  local dir="$out/$name" rdir="results/$name" tag="convoy-$$-$name"
  mkdir -p "$dir"
  rm -f "$dir"/{server,client}.{json,out,err} "$dir/client.hgrm" "$dir/point.json"
  [[ $(id -u) -eq 0 ]] && chown 10001:10001 "$dir"
  local common=(--init --network host -v "$out:/opt/convoy/results" "${CONTAINER_USER[@]}")
  local scpu=() ccpu=()
  [[ -n "${SERVER_CPUS:-}" ]] && scpu=(--cpuset-cpus "$SERVER_CPUS")
  [[ -n "${CLIENT_CPUS:-}" ]] && ccpu=(--cpuset-cpus "$CLIENT_CPUS")
  local status=ok error="" port="" i
  CONVOY_CONTAINERS+=("$tag-server" "$tag-client")
  if ! timeout 60 "$DOCKER_CLI" run -d --name "$tag-server" "${common[@]}" "${scpu[@]}" "$CONVOY_IMAGE" \
    convoy-server --port 0 --stats "$rdir/server.json" "${_sa[@]}" >/dev/null 2>"$dir/server.err"; then
    status=failed error="docker run (server): $(last_line "$dir/server.err")"
  else
    for ((i = 0; i < 100; i++)); do
      port=$(timeout 10 "$DOCKER_CLI" logs "$tag-server" 2>/dev/null | sed -n 's/^listening .*:\([0-9]*\)$/\1/p' | head -n 1)
      [[ -n "$port" ]] && break
      [[ "$(timeout 10 "$DOCKER_CLI" inspect -f '{{.State.Running}}' "$tag-server" 2>/dev/null)" == true ]] || break
      sleep 0.2
    done
    if [[ -z "$port" ]]; then
      timeout 10 "$DOCKER_CLI" logs "$tag-server" >"$dir/server.out" 2>"$dir/server.err" || true
      status=failed error="server did not start: $(last_line "$dir/server.err")"
    else
      local crc=0
      timeout --kill-after=5 "${CLIENT_TIMEOUT:-120}" "$DOCKER_CLI" run --rm --name "$tag-client" \
        "${common[@]}" "${ccpu[@]}" "$CONVOY_IMAGE" convoy-client --port "$port" \
        --json "$rdir/client.json" --hgrm "$rdir/client.hgrm" "${_ca[@]}" \
        >"$dir/client.out" 2>"$dir/client.err" || crc=$?
      # docker stop sends SIGTERM to the init process, which passes it on to convoy-server.
      timeout 30 "$DOCKER_CLI" stop -t 5 "$tag-server" >/dev/null 2>&1 || true
      local src
      src=$(timeout 30 "$DOCKER_CLI" wait "$tag-server" 2>/dev/null || echo "?")
      timeout 10 "$DOCKER_CLI" logs "$tag-server" >"$dir/server.out" 2>"$dir/server.err" || true
      if ((crc == 124 || crc == 137)); then
        status=failed error="client did not finish within ${CLIENT_TIMEOUT:-120} s"
      elif ((crc != 0)); then
        status=failed error="client exit $crc: $(last_line "$dir/client.err")"
      elif [[ "$src" != 0 ]]; then
        status=failed error="server exit $src: $(last_line "$dir/server.err")"
      elif ! jq -e .fib "$dir/server.json" >/dev/null 2>&1; then
        status=failed error="server wrote no valid stats file"
      fi
    fi
  fi
  timeout 30 "$DOCKER_CLI" rm -f "$tag-server" "$tag-client" >/dev/null 2>&1 || true
  write_point_json "$dir" "$params" "$status" "$error"
  [[ "$status" == ok ]]
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
