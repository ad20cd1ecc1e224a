#!/usr/bin/env bash
# The test command: installs what is missing, then configures, builds and runs every test
# under the dev, asan and tsan presets (the scripts' tests, Python unit tests included, run
# under each). Pass preset names to run only those. With --docker, or when CI=true or
# CONVOY_DOCKER_SMOKE=1, it then builds and runs the Docker image (scripts/docker-smoke.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

docker_smoke=0
[[ "${CI:-}" == true || "${CONVOY_DOCKER_SMOKE:-0}" == 1 ]] && docker_smoke=1
presets=()
for arg in "$@"; do
  case "$arg" in
    --docker) docker_smoke=1 ;;
    -h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "test.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    *) presets+=("$arg") ;;
  esac
done
[[ ${#presets[@]} -eq 0 ]] && presets=(dev asan tsan)

scripts/install-deps.sh
for preset in "${presets[@]}"; do
  echo "== workflow: $preset"
  cmake --workflow --preset "$preset"
done

if ((docker_smoke)); then
  echo "== docker smoke test"
  scripts/docker-smoke.sh
fi
