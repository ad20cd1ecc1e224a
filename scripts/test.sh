#!/usr/bin/env bash
# The test command: installs what is missing, then configures, builds and runs every test
# under the dev, asan and tsan presets. Pass preset names to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

presets=("$@")
[[ ${#presets[@]} -eq 0 ]] && presets=(dev asan tsan)

for preset in "${presets[@]}"; do
  echo "== workflow: $preset"
  cmake --workflow --preset "$preset"
done
