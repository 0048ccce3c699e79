#!/usr/bin/env bash
# Builds the Debian package (docs/installation.md): dist/haagent_<version>_<arch>.deb, or into
# the directory given as $1. Offline: it stages the compiled dist/src, haagent's own native
# addon and the production dependencies already in node_modules (their addons built there by
# `npm ci`), then runs dpkg-deb. Nothing is fetched. `npm run package` builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist}")

for f in dist/src/main.js build/Release/haagent_native.node node_modules/.package-lock.json; do
  [ -e "$f" ] || { echo "package.sh: $f is missing: run scripts/setup.sh (or npm ci && npm run build) first" >&2; exit 1; }
done
for tool in dpkg-deb dpkg-shlibdeps gzip strip; do
  command -v "$tool" >/dev/null || { echo "package.sh: $tool not found (apt-get install dpkg-dev binutils)" >&2; exit 1; }
done

version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
work=$(mktemp -d "${TMPDIR:-/tmp}/haagent-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
lib=$root/usr/lib/haagent
doc=$root/usr/share/doc/haagent

# --- the program: /usr/lib/haagent, as `npm install -g` would lay it out -------------------
install -d "$lib/dist" "$lib/build/Release" "$lib/node_modules"
cp -r dist/src "$lib/dist/"
find "$lib/dist" -name '*.map' -delete
install -m 0644 build/Release/haagent_native.node "$lib/build/Release/"
install -m 0644 package.json "$lib/"   # src/version.ts reads the version from it
# The production dependency closure, as npm resolved it (no network: npm ls reads the tree;
# it exits non-zero for an extraneous package, which does not matter here: each dependency
# of package.json is checked below). nan is C++ headers that the addons were compiled
# against: not needed at run time.
closure=$(npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s|^$PWD/node_modules/||p" | sort -u || true)
while read -r dep; do
  case "$dep" in '' | nan | */node_modules/nan) continue ;; esac
  install -d "$lib/node_modules/$(dirname "$dep")"
  cp -r "node_modules/$dep" "$lib/node_modules/$dep"
done <<<"$closure"
for dep in $(node -p 'Object.keys(require("./package.json").dependencies).join(" ")'); do
  [ -f "$lib/node_modules/$dep/package.json" ] ||
    { echo "package.sh: dependency $dep is not in node_modules (npm ci)" >&2; exit 1; }
done
# Only the compiled addons of the native dependencies, not their build trees or sources.
for addon in raw-socket unix-dgram; do
  d=$lib/node_modules/$addon
  [ -n "$(find "$d/build/Release" -maxdepth 1 -name '*.node' 2>/dev/null)" ] ||
    { echo "package.sh: node_modules/$addon has no built addon (npm rebuild $addon)" >&2; exit 1; }
  find "$d/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$d/build/Release" -mindepth 1 -maxdepth 1 ! -name '*.node' -exec rm -rf {} +
  rm -rf "$d/src" "$d/node_modules/nan"
done
# Only what a library needs at run time stays: no docs, tests, examples, repository files,
# source maps, TypeScript declarations, nor the programs a package offers on npm's PATH
# ("bin": haagent runs none of them).
node -e 'for (const d of process.argv.slice(1)) { const b = require(d + "/package.json").bin;
  for (const f of typeof b === "string" ? [b] : Object.values(b ?? {})) console.log(d + "/" + f); }' \
  $(find "$lib/node_modules" -name package.json -path '*/node_modules/*' -printf '%h\n' | sort -u) |
  xargs -r rm -f
find "$lib/node_modules" \( -name '.package-lock.json' -o -name '*.md' -o -name '*.markdown' -o -name '*.html' \
  -o -name '.npmignore' -o -name '.git*' -o -name '.github' -o -name '.husky' -o -name '.eslintrc*' -o -name '.travis.yml' \
  -o -name '.editorconfig' -o -name '.taprc' -o -name '*.sh' -o -name 'test' -o -name 'tests' -o -name 'benchmarks' \
  -o -name 'example' -o -name 'examples' -o -name 'binding.gyp' -o -name '*.gyp' -o -name '*.map' -o -name '*.d.ts' \
  -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.ts.map' \) \
  ! -iname 'licen[cs]e*' -prune -exec rm -rf {} +
find "$lib/node_modules" -type d -empty -delete
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
  "$lib/build/Release/haagent_native.node" "$lib"/node_modules/*/build/Release/*.node
# main.js is run through /usr/sbin/haagent, with Debian's node: its shebang becomes a comment
# (same line count) so the file is a module, not a script without its executable bit.
sed -i '1s|^#!.*|// Started by /usr/sbin/haagent.|' "$lib/dist/src/main.js"

# /usr/sbin/haagent: the node flags of main.js's shebang (src/cli/relaunch.ts), one source.
flags=$(head -1 dist/src/main.js | sed -n 's|^#!/usr/bin/env -S node ||p')
install -d "$root/usr/sbin"
sed -e "s|@FLAGS@|$flags|" packaging/deb/haagent.sh >"$root/usr/sbin/haagent"
chmod 0755 "$root/usr/sbin/haagent"

# --- units, configuration, directories -----------------------------------------------------
install -d "$root/usr/lib/systemd/system" "$root/usr/lib/tmpfiles.d" "$root/etc/haagent"
for unit in haagent haagent-realserver; do
  # The packaged unit: its own header instead of the install-by-hand notes, the binary in /usr/sbin.
  { cat "packaging/deb/$unit.header"; sed -n '/^\[Unit\]/,$p' "systemd/$unit.service"; } |
    sed -e 's|/usr/bin/haagent|/usr/sbin/haagent|g' \
      -e 's|^Documentation=\(.*\)|Documentation=\1 file:/usr/share/doc/haagent/operations.md|' \
      >"$root/usr/lib/systemd/system/$unit.service"
done
install -m 0644 packaging/deb/haagent.tmpfiles "$root/usr/lib/tmpfiles.d/haagent.conf"
install -m 0644 packaging/deb/haagent.yaml "$root/etc/haagent/haagent.yaml"

# --- man pages, completion, documentation --------------------------------------------------
install -d "$root/usr/share/man/man8" "$root/usr/share/man/man5" "$root/usr/share/bash-completion/completions"
gzip -9n <man/man8/haagent.8 >"$root/usr/share/man/man8/haagent.8.gz"
gzip -9n <man/man5/haagent.yaml.5 >"$root/usr/share/man/man5/haagent.yaml.5.gz"
install -m 0644 packaging/deb/haagent.bash-completion "$root/usr/share/bash-completion/completions/haagent"
install -d "$doc/examples"
install -m 0644 docs/*.md README.md "$doc/"
install -m 0644 docs/haagent.example.yaml "$doc/examples/"
gzip -9n "$doc/benchmarks.md"   # the one large page; others keep their links working
years=$(git log --format=%cd --date=format:%Y 2>/dev/null | sort -u | sed -n '1p;$p' | paste -sd- | sed 's/^\([0-9]*\)-\1$/\1/')
node scripts/deb-copyright.mjs "$lib/node_modules" "${years:-$(date +%Y)}" >"$doc/copyright"
{ printf 'haagent (%s) unstable; urgency=medium\n\n  * Built from the haagent repository, commit %s.\n\n -- haagent maintainers <haagent@example.org>  %s\n' \
    "$version" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"; } |
  gzip -9n >"$doc/changelog.gz"

# --- control --------------------------------------------------------------------------------
install -d "$root/DEBIAN"
for s in postinst prerm postrm; do install -m 0755 "packaging/deb/$s" "$root/DEBIAN/$s"; done
echo /etc/haagent/haagent.yaml >"$root/DEBIAN/conffiles"
# libc6 and libstdc++6 as the addons need them.
mkdir -p "$work/debian"
printf 'Source: haagent\n\nPackage: haagent\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e root/usr/lib/haagent/build/Release/*.node root/usr/lib/haagent/node_modules/*/build/Release/*.node 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SHLIBS@|$shlibs|" -e "s|@SIZE@|$size|" \
  packaging/deb/control >"$root/DEBIAN/control"

find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f ! -path '*/DEBIAN/*' ! -path "$root/usr/sbin/*" -exec chmod 0644 {} +
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
mkdir -p "$out"
deb=$out/haagent_${version}_${arch}.deb
dpkg-deb -Zxz --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
