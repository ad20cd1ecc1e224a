# shellcheck shell=bash
# What the scripts that measure real interpreters beside convoy-server (calibrate.sh, fidelity.sh,
# reference.sh, seed-experiment.sh) source: common.sh (options, traps), run.sh (the measurement
# runner) and interpreters.sh (finding the interpreters). Source it first; do not run it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$CONVOY_ROOT/scripts/lib/run.sh"
source "$CONVOY_ROOT/scripts/lib/interpreters.sh"
