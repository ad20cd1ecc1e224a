#!/usr/bin/env bash
# Installs the Debian packages convoy needs to build, test and run its experiments.
# Idempotent: prints nothing and exits 0 when everything is already there.
#   scripts/install-deps.sh [--all]    --all: also the optional peers for comparisons
#                                      (sockperf for scripts/bench-client.sh; pypy3 and ruby
#                                      for scripts/reference.sh)
set -euo pipefail

packages=(
  build-essential cmake ninja-build git pkg-config
  libboost1.81-dev libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  procps util-linux iproute2 python3 python3-matplotlib
)
optional=(sockperf pypy3 ruby)

want=("${packages[@]}")
case "${1:-}" in
  "") ;;
  --all) want+=("${optional[@]}") ;;
  -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install-deps: unknown option '$1' (see --help)" >&2; exit 2 ;;
esac
[[ $# -le 1 ]] || { echo "install-deps: one option at most (see --help)" >&2; exit 2; }

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "install-deps: missing packages: ${missing[*]}; run this script as root (or with sudo) to install them" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq
${SUDO:-} apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
