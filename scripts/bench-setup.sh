#!/usr/bin/env bash
# Installs the agents `npm run bench` compares haagent with (keepalived, ucarp and Heartbeat),
# the routing daemons the BGP drills run inside namespaces (BIRD 2 and FRR), and lintian for
# the package check, all Debian packages, without letting their postinst scripts start any
# service in the root namespace. Run as root; idempotent; a no-op when all are already there.
#
# How services are kept down: a temporary /usr/sbin/policy-rc.d that exits 101 ("action
# forbidden"), which invoke-rc.d and deb-systemd-invoke honour; --no-install-recommends keeps
# the pulled-in set small. An existing policy-rc.d (Docker images ship one) is put back
# exactly as it was, in a trap, whatever happens.
set -euo pipefail

want=()
# resource-agents brings IPaddr2, which Heartbeat's haresources use to add the VIP.
# bird2 and frr would otherwise start bird, zebra and staticd in the root namespace (now, and at
# every boot: their units are disabled below).
for pkg in keepalived ucarp heartbeat resource-agents bird2 frr lintian; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || want+=("$pkg")
done

if [ "${#want[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench-setup: installing ${want[*]} needs root" >&2
    exit 1
  fi
  policy=/usr/sbin/policy-rc.d
  backup=""
  if [ -e "$policy" ]; then
    backup=$(mktemp /usr/sbin/.policy-rc.d.bench.XXXXXX)
    cp -p "$policy" "$backup"
  fi
  restore() {
    if [ -n "$backup" ]; then mv -f "$backup" "$policy"; else rm -f "$policy"; fi
  }
  trap restore EXIT
  printf '#!/bin/sh\n# temporary: scripts/bench-setup.sh forbids service starts while installing\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
  restore
  trap - EXIT
  # Their units are enabled by the packages: a reboot would start bird, zebra and staticd in
  # the root namespace with Debian's sample configuration. The drills start their own, in
  # namespaces; keep the system's off (only for what this run installed).
  for unit in bird frr; do
    case " ${want[*]} " in *" ${unit/bird/bird2} "*) systemctl disable --quiet "$unit.service" 2>/dev/null || true ;; esac
  done
fi

# Report (never kill) any of their daemons running outside our own lab runs: the bench
# cannot tell such a daemon from its own, and it was not started by this script.
running=$(ps -eo pid=,comm= | awk '$2 ~ /^(keepalived|ucarp|heartbeat|bird|zebra|bgpd|staticd|watchfrr)$/ {print $1 "(" $2 ")"}' | tr '\n' ' ')
if [ -n "$running" ]; then
  echo "bench-setup: WARNING: already running, not started by the bench: $running" >&2
fi
printf 'bench-setup: %s; %s; %s; %s; %s\n' \
  "$(keepalived --version 2>&1 | head -1)" \
  "$(dpkg-query -W -f='ucarp ${Version}' ucarp 2>/dev/null)" \
  "$(dpkg-query -W -f='heartbeat ${Version}' heartbeat 2>/dev/null)" \
  "$(dpkg-query -W -f='bird2 ${Version}' bird2 2>/dev/null)" \
  "$(dpkg-query -W -f='frr ${Version}' frr 2>/dev/null)"
