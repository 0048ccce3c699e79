// Writes the Debian package's copyright file (machine-readable format 1.0) on stdout: haagent
// itself and one paragraph per npm package bundled in the node_modules directory given as the
// first argument, with the licence and author each package.json names. Each bundled package's own
// licence file stays beside it. The second argument is haagent's copyright years. Used by
// scripts/package.sh.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import process from 'node:process';

const MIT = `Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:
.
The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.
.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.`;

const ISC = `Permission to use, copy, modify, and/or distribute this software for any purpose with or
without fee is hereby granted, provided that the above copyright notice and this permission
notice appear in all copies.
.
THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS
SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL
THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY
DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF
CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE
OR PERFORMANCE OF THIS SOFTWARE.`;

const TEXTS = {
  MIT,
  ISC,
  'Apache-2.0': 'On Debian systems the full text of the Apache License 2.0 is in\n/usr/share/common-licenses/Apache-2.0.',
};

/** Every package directory under a node_modules tree, scoped and nested ones included. */
function packages(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if (name.startsWith('@')) {
      found.push(...packages(path));
      continue;
    }
    if (!existsSync(join(path, 'package.json'))) continue;
    found.push(path);
    if (existsSync(join(path, 'node_modules'))) found.push(...packages(join(path, 'node_modules')));
  }
  return found;
}

function licenceOf(pkg) {
  const l = pkg.license ?? pkg.licenses;
  return typeof l === 'string' ? l : (l?.type ?? 'UNKNOWN');
}

function authorOf(pkg) {
  const a = pkg.author;
  const who = typeof a === 'string' ? a : a?.name;
  return who ? who.replace(/\s*[<(].*$/, '') : `the ${pkg.name} authors`;
}

const [root, years] = process.argv.slice(2);
if (!root || !years) throw new Error('usage: deb-copyright.mjs NODE_MODULES_DIR YEARS');
const paras = [
  [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: haagent',
    'Comment: The npm packages haagent runs with are bundled in /usr/lib/haagent/node_modules,',
    ' each with its own licence file.',
  ],
  ['Files: *', `Copyright: ${years} haagent contributors`, 'License: MIT'],
];
const used = new Set(['MIT']);
for (const dir of packages(root)) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const licence = licenceOf(pkg);
  if (!(licence in TEXTS)) throw new Error(`${pkg.name}: licence ${licence} has no text in deb-copyright.mjs: add it`);
  used.add(licence);
  paras.push([`Files: usr/lib/haagent/node_modules/${relative(root, dir)}/*`, `Copyright: ${authorOf(pkg)}`, `License: ${licence}`]);
}
for (const licence of [...used].sort()) {
  paras.push([`License: ${licence}`, ...TEXTS[licence].split('\n').map((l) => ` ${l}`)]);
}
process.stdout.write(paras.map((p) => p.join('\n')).join('\n\n') + '\n');
