#!/bin/sh
# haagent: runs the agent's JavaScript (/usr/lib/haagent) with Debian's node and the node
# flags the agent is tuned for (src/cli/relaunch.ts). The library directory is found next to
# this script, so an unpacked package (dpkg-deb -x) runs from where it was unpacked.
here=$(dirname "$(readlink -f "$0")")
exec "${HAAGENT_NODE:-/usr/bin/node}" @FLAGS@ "$here/../lib/haagent/dist/src/main.js" "$@"
