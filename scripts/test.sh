#!/usr/bin/env bash
# The test command: installs what is missing, then configures, builds and runs every test
# under the dev, asan and tsan presets. Pass preset names to run only those. With --docker, or
# when CI=true or CONVOY_DOCKER_SMOKE=1, it then builds and runs the Docker image
# (scripts/docker-smoke.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

docker_smoke=0
[[ "${CI:-}" == true || "${CONVOY_DOCKER_SMOKE:-0}" == 1 ]] && docker_smoke=1
presets=()
for arg in "$@"; do
  if [[ "$arg" == --docker ]]; then docker_smoke=1; else presets+=("$arg"); fi
done
[[ ${#presets[@]} -eq 0 ]] && presets=(dev asan tsan)

for preset in "${presets[@]}"; do
  echo "== workflow: $preset"
  cmake --workflow --preset "$preset"
done

if ((docker_smoke)); then
  echo "== docker smoke test"
  scripts/docker-smoke.sh
fi
