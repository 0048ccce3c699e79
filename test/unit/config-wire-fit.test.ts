// A valid configuration always goes on the wire: the largest files validation accepts (by
// bytes and by group count) are sent by a running driver as heartbeats, probes and a resign,
// and one byte or one group more is refused by validation, at the field, with exit 78.
// Sizes by docs/protocol.md: 44 + cluster + node bytes, then 4 + name bytes per group.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig, type TextOut } from '../../src/cli/check-config.js';
import { EXIT } from '../../src/cli/exit.js';
import { heartbeatOf } from '../../src/config/wire-fit.js';
import type { Config } from '../../src/config/types.js';
import { decode, encode, encodedLength, MAX_DATAGRAM, MAX_GROUPS, validateMessage } from '../../src/wire/codec.js';
import { issuesOf, parse } from './config-harness.js';
import { KEY, rig, settle } from './driver-rig.js';

/** A name of exactly `len` bytes starting with `head`. */
const sized = (head: string, len: number) => head + 'x'.repeat(len - head.length);

const CLUSTER = sized('c', 63);
const NODE = sized('n', 63);

/**
 * A director file with groups of these name lengths (group i's name on line 6 + 5i), alternately
 * failover at the top priority and levip at the top weight: every group kind in one heartbeat.
 */
function fileWith(nameLens: readonly number[], node: string | null = NODE): string {
  const lines = [...(node === null ? [] : [`node: ${node}`]), `cluster: ${CLUSTER}`, 'heartbeat:', '  peers: [198.51.100.11]', 'groups:'];
  nameLens.forEach((len, i) => {
    lines.push(`  - name: ${sized(`g${i}-`, len)}`, `    vip: 203.0.113.${i + 1}/32`, '    interface: eth0');
    lines.push(...(i % 2 === 0 ? ['    priority: 254', '    preempt: true'] : ['    mode: levip', '    levip: { weight: 100 }']));
  });
  return lines.join('\n') + '\n';
}

/** 18 groups of 63 bytes and a 19th of `last`: 44 + 63 + 63 + 18 x 67 + 4 + 20 = 1400 bytes. */
const byBytes = (last = 20) => [...Array<number>(18).fill(63), last];
/** 64 groups, 14 of 16 bytes and 50 of 15: 170 + 14 x 20 + 50 x 19 = 1400 bytes. */
const byCount = (extra = 0) => [...Array<number>(14).fill(16), ...Array<number>(49).fill(15), 15 + extra];

const wireOf = (c: Config) => heartbeatOf(c.cluster, c.node, c.groups.map((g) => g.name));

/**
 * Runs a driver with `config`: heartbeats, then a peer heard and gone silent (probes), then a
 * shutdown (resign). Every datagram must decode and be `bytes` long.
 */
async function sendsEverything(t: Test, config: Config, bytes: number): Promise<void> {
  const { loop, sent, driver, peer, deliver } = rig(config);
  driver.start();
  await settle();
  loop.advance(3 * config.heartbeat.interval);
  deliver(peer(1n, 'standby', 1));
  loop.advance(loop.now + config.heartbeat.deadTime - 1);
  driver.shutdown();
  await settle();
  loop.advance(loop.now + config.heartbeat.interval);
  driver.stop();
  const types = new Set<string>();
  for (const d of sent) {
    const r = decode(d, KEY, config.cluster);
    if (!r.ok) return void t.fail(`undecodable: ${r.reason}`);
    types.add(r.msg.type);
    t.equal(d.length, bytes, `${r.msg.type} ${r.msg.seq}: ${bytes} bytes`);
    t.equal(r.msg.groups.length, config.groups.length, 'every group on the wire');
  }
  t.same([...types].sort(), ['heartbeat', 'probe', 'resign'], 'every message type was sent');
}

t.test('the largest heartbeat by bytes: 63-byte cluster, node and 18 group names, and a 19th of 20', async (t) => {
  const config = parse(fileWith(byBytes()));
  t.equal(config.groups.length, 19);
  t.equal(encodedLength(wireOf(config)), MAX_DATAGRAM, 'exactly the datagram limit');
  t.equal(encode(wireOf(config), KEY).length, 1400);
  await sendsEverything(t, config, 1400);
});

t.test('the largest group count: 64 groups, 63-byte cluster and node names, the datagram full', async (t) => {
  const config = parse(fileWith(byCount()));
  t.equal(config.groups.length, MAX_GROUPS);
  t.equal(MAX_GROUPS, 64);
  t.equal(encodedLength(wireOf(config)), MAX_DATAGRAM);
  await sendsEverything(t, config, 1400);
});

t.test('one byte more is refused at the group that no longer fits, and the codec agrees', async (t) => {
  const text = fileWith(byBytes(21));
  const issues = issuesOf(text);
  t.equal(issues.length, 1, JSON.stringify(issues));
  t.match(issues[0], { path: 'groups[18].name', line: 6 + 5 * 18, column: 11, value: JSON.stringify(sized('g18-', 21)) });
  t.match(issues[0]?.expected, /^a group the heartbeat can still carry: with this one the heartbeat encodes to 1401 bytes, above 1400 \(/);
  t.match(issues[0]?.expected, /all 19 groups take 1401 bytes, at most 1400 fit one unfragmented datagram\): shorten the names or use fewer groups$/);
  const names = Array.from({ length: 19 }, (_, i) => sized(`g${i}-`, byBytes(21)[i]!));
  t.throws(() => encode(heartbeatOf(CLUSTER, NODE, names), KEY), /encodes to 1401 bytes/, 'the daemon could not have sent it');
});

t.test('one byte more over 64 groups is refused at the last group', async (t) => {
  const issues = issuesOf(fileWith(byCount(1)));
  t.same(issues.map((i) => [i.path, i.line]), [['groups[63].name', 6 + 5 * 63]]);
  t.match(issues[0]?.expected, /encodes to 1401 bytes, above 1400.*all 64 groups take 1401 bytes/);
});

t.test('an overflow in the middle points at the first group that does not fit', async (t) => {
  const lens = [...Array<number>(25).fill(63)];
  const issues = issuesOf(fileWith(lens));
  t.same(issues.map((i) => i.path), ['groups[18].name'], '18 groups fit, the 19th does not');
  t.match(issues[0]?.expected, /encodes to 1443 bytes, above 1400.*all 25 groups take 1845 bytes/);
});

t.test('a 65th group is refused by the count, whatever the names', async (t) => {
  const issues = issuesOf(fileWith(Array<number>(MAX_GROUPS + 1).fill(4)));
  t.same(issues.map((i) => [i.path, i.line]), [['groups', 6]], 'one issue: the size check stays quiet');
  t.match(issues[0]?.expected, /^a list of at most 64 groups \(every heartbeat carries every group, and it has room for 64\)$/);
  const names = Array.from({ length: MAX_GROUPS + 1 }, (_, i) => sized(`g${i}-`, 4));
  t.match(validateMessage(heartbeatOf('c', 'n', names)), /more than 64 groups/, 'the codec refuses it too');
});

t.test('without a node key the host name is the node name the heartbeat carries', async (t) => {
  const text = fileWith(byBytes(), null);
  t.equal(parse(text, { hostname: NODE }).node, NODE, 'a 63-byte host name fits');
  const shorter = parse(fileWith(byBytes(21), null), { hostname: sized('h', 62) });
  t.equal(encodedLength(wireOf(shorter)), 1400, 'a byte less in the host name leaves a byte for a group');
  const issues = issuesOf(fileWith(byBytes(21), null), { hostname: NODE });
  t.same(issues.map((i) => i.path), ['groups[18].name']);
  t.match(issues[0]?.expected, `the node name ${JSON.stringify(NODE)} (the host name)`);
});

t.test('invalid or repeated names leave the size alone: their own issue is the only one', async (t) => {
  const long = fileWith(Array<number>(25).fill(63)).replace(`name: ${sized('g3-', 63)}`, `name: ${sized('g3-', 64)}`);
  t.same(issuesOf(long).map((i) => i.path), ['groups[3].name'], 'a 64-byte name: the schema speaks, the size is unknown');
  const twice = fileWith(Array<number>(25).fill(63)).replace(`name: ${sized('g3-', 63)}`, `name: ${sized('g2-', 63)}`);
  t.same(issuesOf(twice).map((i) => i.path), ['groups[3].name'], 'a repeated name: only the repeat');
  t.match(issuesOf(twice)[0]?.expected, /not already used/);
});

t.test('check-config refuses a heartbeat that does not fit: file:line:column, exit 78', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-fit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'haagent.yaml');
  writeFileSync(file, fileWith(byBytes(21)));
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void): TextOut => ({ write: (s: string) => (add(s), true) });
  const code = checkConfig(file, sink((s) => (out += s)), sink((s) => (err += s)));
  t.equal(code, EXIT.CONFIG);
  t.equal(EXIT.CONFIG, 78);
  t.equal(out, '');
  t.match(err, `${file}:96:11: groups[18].name: got "${sized('g18-', 21)}", expected a group the heartbeat can still carry`);
});
