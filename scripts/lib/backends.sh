# shellcheck shell=bash
# What the scripts that measure convoy-server on either backend (demo.sh, sweep.sh,
# docker-smoke.sh) source: common.sh (options, traps), run.sh (the measurement runner) and
# docker.sh (the docker backend). Source it first; do not run it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$CONVOY_ROOT/scripts/lib/run.sh"
source "$CONVOY_ROOT/scripts/lib/docker.sh"
