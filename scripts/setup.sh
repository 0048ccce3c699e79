#!/usr/bin/env bash
# Installs what haagent's demo, tests and drills need on a Debian machine (run as root):
# iproute2, iputils-arping (NOT Debian's "arping": another program with other flags),
# tcpdump, nftables, a C/C++ toolchain for the native addons, the Debian packaging tools, then
# the npm dependencies (which builds haagent's own addon too), then the TypeScript build.
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v ip >/dev/null || need_apt+=(iproute2)
# iputils' arping prints "iputils" in its version; Debian's other "arping" does not.
if ! arping -V 2>&1 | grep -qi iputils; then need_apt+=(iputils-arping); fi
command -v tcpdump >/dev/null || need_apt+=(tcpdump)
command -v ping >/dev/null || need_apt+=(iputils-ping)   # ping checks and ping nodes
command -v tc >/dev/null || need_apt+=(iproute2)
command -v nft >/dev/null || need_apt+=(nftables)   # test/netns/firewall.test.ts: the documented rules
command -v node >/dev/null || need_apt+=(nodejs npm)
# unix-dgram (systemd notifications) and raw-socket are C++ addons that node-gyp builds at
# install; haagent's own (src/native: AF_PACKET gratuitous ARP, scheduling) is C.
command -v make >/dev/null || need_apt+=(make)
command -v g++ >/dev/null || need_apt+=(g++)
command -v cc >/dev/null || need_apt+=(gcc)
command -v python3 >/dev/null || need_apt+=(python3)
# The Debian package (scripts/package.sh, test/package/deb.test.ts): dpkg-shlibdeps for the
# addons' library dependencies, strip, man(1) for the man-page checks (lintian comes with
# bench-setup.sh below; systemd-analyze with systemd).
command -v dpkg-shlibdeps >/dev/null || need_apt+=(dpkg-dev)
command -v strip >/dev/null || need_apt+=(binutils)
command -v man >/dev/null || need_apt+=(man-db)
if [ "${#need_apt[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# yargs 18 needs 20.19 (package.json engines).
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "haagent needs Node.js >= 20.19 (found $(node --version))" >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# npm ci builds the addon (`node-gyp rebuild` is npm's install step for a package with a
# binding.gyp); rebuild it when it is missing or older than its source (a pull changed the C).
addon=build/Release/haagent_native.node
if [ ! -f "$addon" ] || [ -n "$(find src/native binding.gyp -newer "$addon")" ]; then
  # node-gyp is in node_modules (a devDependency's); else npm rebuild finds npm's own.
  npx --no node-gyp rebuild --loglevel=error >/dev/null || npm rebuild --loglevel=error >/dev/null
fi
npm run --silent build
bash scripts/bench-setup.sh
