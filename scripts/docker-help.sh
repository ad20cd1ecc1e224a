#!/usr/bin/env bash
# The image's default command: what is inside and how to run the demo with it.
set -euo pipefail
cd "$(dirname "$0")/.."

cat <<HELP
$(convoy-server --version 2>/dev/null || echo "convoy-server: missing")
$(convoy-client --version 2>/dev/null || echo "convoy-client: missing")

The convoy image: convoy-server, convoy-client, configs/ and scripts/ under /opt/convoy.
Results go to /opt/convoy/results: mount a host directory there. Use --init (signals reach
the programs) and --network host (the loopback path of a bare run, no bridge).

The demo (none, py2 and py3 with one fib thread), server and client in one container:
  mkdir -p results
  docker run --rm --init --network host --cpuset-cpus 0,1 --user "\$(id -u):\$(id -g)" \\
    -v "\$PWD/results:/opt/convoy/results" convoy scripts/demo.sh --no-build --no-install \\
    --server-cpus 0 --client-cpus 1

Server and client in separate containers, each pinned to its own CPUs (from a checkout):
  scripts/docker-demo.sh                     # builds the image, prints the table
  mkdir -p results; export CONVOY_UID=\$(id -u) CONVOY_GID=\$(id -g) SERVER_CPUS=0 CLIENT_CPUS=1
  docker compose up --abort-on-container-exit --exit-code-from client   # SERVER_CONFIG=py2 ...

One program at a time:
  docker run --rm --init --network host --cpuset-cpus 0 convoy \\
    convoy-server --port 9000 --config configs/py3.toml
  docker run --rm --init --network host --cpuset-cpus 1 convoy \\
    convoy-client --port 9000 --config configs/think-2ms.toml --duration 5s

Configs: $(cd configs && ls *.toml | tr '\n' ' ')
Options: convoy-server --help, convoy-client --help, scripts/demo.sh --help
HELP
