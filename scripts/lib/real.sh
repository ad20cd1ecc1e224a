# shellcheck shell=bash
# What the scripts that measure real interpreters beside convoy-server (calibrate.sh, fidelity.sh,
# reference.sh, seed-experiment.sh) source: common.sh (options, traps), run.sh (the measurement
# runner) and interpreters.sh (finding the interpreters). Source it first; do not run it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$CONVOY_ROOT/scripts/lib/run.sh"
source "$CONVOY_ROOT/scripts/lib/interpreters.sh"

# real_option "$@" — takes one of the options that reference.sh, fidelity.sh and
# seed-experiment.sh share into the script's variable of that name: --interpreters
# (interpreters), --interpreter (appended to the array explicit), --server-cpus / --client-cpus
# (server_cpus, client_cpus), --out (out), --no-build (build=0).
# TAKEN = how many arguments it used; returns 1 when $1 is not one of them.
# shellcheck disable=SC2034 # the variables are the calling script's
real_option() {
  TAKEN=2
  case "$1" in
    --interpreters) need "$@"; interpreters=$2 ;;
    --interpreter) need "$@"; explicit+=("$2") ;;
    --server-cpus) need "$@"; server_cpus=$2 ;;
    --client-cpus) need "$@"; client_cpus=$2 ;;
    --out) need "$@"; out=$2 ;;
    --no-build) build=0 TAKEN=1 ;;
    *) return 1 ;;
  esac
}
