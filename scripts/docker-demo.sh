#!/usr/bin/env bash
# The demo in containers: scripts/demo.sh --docker. Builds the convoy image, then measures none,
# py2 and py3 (by default) with the server and the client in separate containers from that image,
# each pinned to its own CPUs ($SERVER_CPUS and $CLIENT_CPUS, else 0 and 1), on the host's network.
# Prints the same table as scripts/demo.sh; results under results/docker-demo-<time>-<suffix>/.
# Options: those of scripts/demo.sh (scripts/docker-demo.sh --help).
exec "$(dirname "$0")/demo.sh" --docker "$@"
