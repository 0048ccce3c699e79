#!/usr/bin/env bash
# The live failover demo: builds a small network in namespaces (switch, client, two
# directors running the real `haagent run`), crashes and stops the active director a few
# times, and prints the client-visible outage of each failover. Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/test/netns/demo.js "$@"
