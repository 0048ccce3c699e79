// `haagent import-keepalived` through the real parser: the YAML on stdout (or --output), the
// FILE:LINE list on stderr, and the exit codes (0 all converted, 1 something left out,
// 78 unreadable or unparsable input, 64 usage, 73 output not writable).
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../../src/cli/exit.js';
import { parseConfigText } from '../../src/config/load.js';
import { runCli, tempDir } from './cli-fakes.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/keepalived/${name}`, import.meta.url));

const lineOf = (file: string, needle: string) => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;

t.test('something left out: the YAML on stdout all the same, the list on stderr, exit 1', async (t) => {
  const file = fixture('pair-master.conf');
  const r = await runCli(['import-keepalived', file]);
  t.equal(r.code, EXIT.FAILURE);
  t.match(r.stdout, /^# converted from .*pair-master\.conf by haagent import-keepalived/);
  t.ok(parseConfigText(r.stdout, 'stdout', { hostname: 'h' }).ok, 'stdout is a configuration haagent loads');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines[0], `${file}:${lineOf(file, 'vrrp_instance')}: VRRP multicast: carried over, but haagent's heartbeats go to UDP port 694 of multicast group 239.255.6.94, not as VRRP (IP protocol 112) to the VRRP group: let them through the firewall`);
  t.match(lines[1], `${file}:${lineOf(file, 'authentication')}: authentication: not carried over: `);
  t.equal(lines.at(-1), `haagent: ${file}: converted to stdout; 1 item not carried over, 1 item carried over with a difference`);
  t.equal(lines.length, 3);
});

t.test('everything converted: exit 0; --node names the node', async (t) => {
  const file = join(tempDir(t), 'keepalived.conf');
  writeFileSync(file, 'vrrp_instance web {\n  interface eth0\n  priority 150\n  unicast_src_ip 192.0.2.11\n  unicast_peer {\n    192.0.2.12\n  }\n  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n');
  const r = await runCli(['import-keepalived', file, '--node', 'd0']);
  t.equal(r.code, EXIT.OK);
  t.match(r.stdout, /\nnode: d0\n/);
  t.match(r.stderr, /0 items not carried over, 1 item carried over with a difference\n$/);
});

t.test('--output writes the file, refuses to replace one without --force (73)', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'haagent.yaml');
  const file = fixture('ipv6.conf');
  const first = await runCli(['import-keepalived', file, '-o', out]);
  t.equal(first.code, EXIT.FAILURE, 'the include is listed');
  t.equal(first.stdout, '');
  t.match(first.stderr, `converted to ${out};`);
  const written = readFileSync(out, 'utf8');
  t.ok(parseConfigText(written, out, { hostname: 'h' }).ok);
  const again = await runCli(['import-keepalived', file, '-o', out, '--node', 'other']);
  t.equal(again.code, EXIT.CANTCREAT);
  t.match(again.stderr, /it exists: --force replaces it/);
  t.equal(readFileSync(out, 'utf8'), written, 'the existing file is untouched');
  const forced = await runCli(['import-keepalived', file, '-o', out, '--node', 'other', '--force']);
  t.equal(forced.code, EXIT.FAILURE);
  t.match(readFileSync(out, 'utf8'), /\nnode: other\n/);
});

t.test('input that cannot be parsed or read: exit 78, file:line and what was expected, nothing on stdout', async (t) => {
  const file = fixture('syntax-error.conf');
  const r = await runCli(['import-keepalived', file]);
  t.equal(r.code, EXIT.CONFIG);
  t.equal(r.stdout, '');
  t.equal(r.stderr, [
    `${file}:${lineOf(file, 'vrrp_instance')}: expected a "}" closing vrrp_instance before the end of the file`,
    `${file}:${lineOf(file, 'notify_master')}: expected a closing " for the string opened at column 19`,
    `haagent: ${file}: 2 errors, nothing converted`,
    '',
  ].join('\n'));
  const missing = await runCli(['import-keepalived', join(tempDir(t), 'none.conf')]);
  t.equal(missing.code, EXIT.CONFIG);
  t.match(missing.stderr, /none\.conf: cannot read it \(ENOENT/);
});

t.test('usage: no file, or a --node haagent would refuse, is exit 64', async (t) => {
  const none = await runCli(['import-keepalived']);
  t.equal(none.code, EXIT.USAGE);
  t.match(none.stderr, /Not enough non-option arguments/);
  const bad = await runCli(['import-keepalived', fixture('pair-master.conf'), '--node', 'no spaces']);
  t.equal(bad.code, EXIT.USAGE);
  t.match(bad.stderr, /--node: got "no spaces", expected a name of 1\.\.63/);
  t.equal(none.stdout + bad.stdout, '');
});
