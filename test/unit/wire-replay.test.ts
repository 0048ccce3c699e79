import { DEFAULTS } from '../../src/config/defaults.js';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ReplayGuard, FUTURE_BOOT_SLACK_MS, type MarkStore, type NodeMarks } from '../../src/wire/replay.js';
import { RECORD_BYTES, ReplayFile, decodeRecord, encodeRecord } from '../../src/adapters/replay-file.js';
import { DropCounters } from '../../src/wire/counters.js';
import { DROP_REASONS } from '../../src/wire/types.js';

/** Our wall clock in the tests: boot ids below are far below it, so all are plausible. */
const NOW = 1_800_000_000_000;

t.test('replay verdict table (one node, in sequence)', async (t) => {
  const g = new ReplayGuard();
  // [bootId, seq, verdict, why]
  const steps: [bigint, bigint, string, string][] = [
    [10n, 1n, 'ok', 'first datagram from an unknown node'],
    [10n, 2n, 'ok', 'next seq'],
    [10n, 2n, 'replay', 'same seq again'],
    [10n, 1n, 'replay', 'lower seq'],
    [10n, 7n, 'ok', 'a gap is fine (lost datagrams)'],
    [10n, 5n, 'replay', 'reordered older datagram'],
    [9n, 100n, 'old-boot', 'older boot, whatever its seq'],
    [11n, 1n, 'ok', 'newer boot resets the sequence'],
    [11n, 1n, 'replay', 'and is then tracked'],
    [10n, 8n, 'old-boot', 'the previous boot is now old'],
    [11n, 2n, 'ok', 'refusals did not move the mark'],
  ];
  for (const [boot, seq, want, why] of steps) {
    t.equal(g.check('a', boot, seq, NOW), want, `(${boot}, ${seq}): ${why}`);
  }
});

t.test('nodes are tracked apart', async (t) => {
  const g = new ReplayGuard();
  t.equal(g.check('a', 5n, 5n, NOW), 'ok');
  t.equal(g.check('b', 1n, 1n, NOW), 'ok', 'another node has its own mark');
  t.equal(g.check('b', 1n, 1n, NOW), 'replay');
  t.equal(g.check('a', 5n, 5n, NOW), 'replay');
  t.equal(g.size, 2);
});

t.test('eviction cap: least recently accepted goes first', async (t) => {
  const g = new ReplayGuard({ capacity: 3 });
  g.check('a', 1n, 1n, NOW);
  g.check('b', 1n, 1n, NOW);
  g.check('c', 1n, 1n, NOW);
  g.check('a', 1n, 2n, NOW); // a accepted again: b is now the least recent
  t.equal(g.check('b', 0n, 9n, NOW), 'old-boot', 'refusal does not refresh b');
  t.equal(g.check('d', 1n, 1n, NOW), 'ok');
  t.equal(g.size, 3, 'never more than capacity');
  t.equal(g.check('b', 1n, 1n, NOW), 'ok', 'b was evicted: it is accepted as new (documented cost)');
  t.equal(g.check('a', 1n, 2n, NOW), 'replay', 'a, recently accepted, was kept');
  t.equal(g.check('c', 1n, 1n, NOW), 'ok', 'c was the next least recent, evicted by b');
});

t.test('default capacity holds and bounds many nodes', async (t) => {
  const g = new ReplayGuard();
  const n = DEFAULTS.replay.capacity * 3;
  for (let i = 0; i < n; i++) t.equal(g.check(`n${i}`, 1n, 1n, NOW), 'ok', `n${i}`, { diagnostic: false });
  t.equal(g.size, DEFAULTS.replay.capacity);
  t.equal(g.check(`n${n - 1}`, 1n, 1n, NOW), 'replay', 'the newest are still tracked');
  t.throws(() => new ReplayGuard({ capacity: 0 }), RangeError);
});

t.test('a far-future boot id does not lock the real peer out', async (t) => {
  const g = new ReplayGuard();
  const real = BigInt(NOW - 5000);
  const forged = BigInt(NOW) + BigInt(FUTURE_BOOT_SLACK_MS) + 1000n;
  t.equal(g.check('d1', real, 1n, NOW), 'ok', 'the real peer');
  t.equal(g.check('d1', forged, 1n, NOW), 'ok', 'a key holder\'s boot a year ahead is taken as a datagram...');
  t.equal(g.check('d1', real, 2n, NOW), 'ok', '...but the real peer\'s next datagram is still accepted');
  t.equal(g.check('d1', forged, 1n, NOW), 'replay', 'the forged boot is replay-checked in its own slot');
  t.equal(g.check('d1', forged - 1n, 9n, NOW), 'old-boot', 'an older far boot is refused');
  t.equal(g.check('d1', real - 1n, 9n, NOW), 'old-boot', 'an older plausible boot is refused');
  t.equal(g.check('d1', BigInt(NOW) + BigInt(FUTURE_BOOT_SLACK_MS), 1n, NOW), 'ok', 'within the slack a newer boot is an ordinary restart');
  t.equal(g.check('d1', real, 3n, NOW), 'old-boot', 'after which the previous boot is old');
});

t.test('a boot ahead of our clock becomes ordinary once the clock catches up', async (t) => {
  const g = new ReplayGuard();
  const ahead = BigInt(NOW) + BigInt(FUTURE_BOOT_SLACK_MS) + 1000n;
  t.equal(g.check('d1', ahead, 1n, NOW), 'ok', 'a peer whose clock runs 61 s ahead');
  t.equal(g.check('d1', ahead, 2n, NOW + 2000), 'ok', 'its next datagram, now plausible');
  t.equal(g.check('d1', ahead, 1n, NOW + 2000), 'replay', 'its old datagram is still a replay after the move');
  t.equal(g.check('d1', ahead - 1n, 1n, NOW + 2000), 'old-boot', 'and its older boots are old');
  t.equal(g.check('d1', BigInt(NOW + 1), 1n, NOW + 2000), 'old-boot', 'any lower boot too');
});

/** A MarkStore in memory that records every save. */
class MemStore implements MarkStore {
  readonly saves: string[] = [];
  constructor(readonly data = new Map<string, NodeMarks>()) {}
  load(): ReadonlyMap<string, NodeMarks> {
    return this.data;
  }
  save(node: string, m: NodeMarks): void {
    this.saves.push(node);
    this.data.set(node, { main: m.main && { ...m.main }, ahead: m.ahead && { ...m.ahead } });
  }
}

t.test('a guard started from its store refuses what an earlier process accepted', async (t) => {
  const store = new MemStore();
  const before = new ReplayGuard({ store });
  for (let seq = 1n; seq <= 5n; seq++) before.check('d1', 10n, seq, NOW);
  t.equal(store.saves.length, 5, 'every accepted datagram is saved');
  before.check('d1', 10n, 3n, NOW);
  t.equal(store.saves.length, 5, 'a refused one is not');
  const after = new ReplayGuard({ store });
  for (let seq = 1n; seq <= 5n; seq++) t.equal(after.check('d1', 10n, seq, NOW), 'replay', `seq ${seq} after the restart`);
  t.equal(after.check('d1', 9n, 99n, NOW), 'old-boot', 'an older boot after the restart');
  t.equal(after.check('d1', 10n, 6n, NOW), 'ok', 'the next real datagram is accepted at once');
  const fresh = new ReplayGuard();
  t.equal(fresh.check('d1', 10n, 1n, NOW), 'ok', 'without a store the recording would be taken (the bug this fixes)');
});

t.test('replay file: records round-trip, a torn record is ignored', async (t) => {
  const m: NodeMarks = { main: { bootId: 1_700_000_000_123n, seq: 42n }, ahead: { bootId: (1n << 64n) - 2n, seq: 7n } };
  const rec = encodeRecord('d1', m)!;
  t.equal(rec.length, RECORD_BYTES);
  t.same(decodeRecord(rec), { node: 'd1', marks: m }, 'round trip');
  t.same(decodeRecord(encodeRecord('n', { main: null, ahead: null })!), { node: 'n', marks: { main: null, ahead: null } }, 'empty marks');
  const torn = Buffer.from(rec);
  torn[85] = (torn[85] ?? 0) ^ 1;
  t.equal(decodeRecord(torn), null, 'a flipped bit fails the CRC');
  t.equal(decodeRecord(Buffer.alloc(RECORD_BYTES)), null, 'an empty slot');
  t.equal(encodeRecord('x'.repeat(64), m), null, 'a name longer than 63 bytes does not fit');
});

t.test('replay file: marks survive a restart, only for configured nodes, in a 0600 file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-marks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'peer-marks');
  const warnings: string[] = [];
  const opts = { path, capacity: 8, nodes: null, warn: (m: string) => warnings.push(m) };
  const a = new ReplayFile(opts);
  const g1 = new ReplayGuard({ store: a });
  g1.check('d1', 10n, 1n, NOW);
  g1.check('d2', 20n, 1n, NOW);
  g1.check('d1', 10n, 2n, NOW);
  t.equal(statSync(path).mode & 0o777, 0o600, 'mode 0600');
  t.equal(statSync(path).size, 2 * RECORD_BYTES, 'one record per peer, rewritten in place');
  // No close: a killed process does not close either; the page cache holds what was written.
  const b = new ReplayFile({ ...opts, nodes: new Set(['d1']) });
  t.same([...b.load().keys()], ['d1'], 'a node no longer configured is dropped');
  const g2 = new ReplayGuard({ store: b });
  t.equal(g2.check('d1', 10n, 2n, NOW), 'replay', 'd1 seq 2 was seen by the previous process');
  t.equal(g2.check('d1', 10n, 3n, NOW), 'ok');
  a.close();
  b.close();
  t.equal(statSync(path).size, RECORD_BYTES, 'compacted at start');
  t.same(warnings, [], 'no warning on the happy path');
});

t.test('replay file: garbage is ignored, an unwritable directory is a warning', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-marks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'peer-marks');
  writeFileSync(path, Buffer.concat([Buffer.alloc(RECORD_BYTES, 0xff), encodeRecord('d1', { main: { bootId: 5n, seq: 5n }, ahead: null })!]));
  const f = new ReplayFile({ path, capacity: 4, nodes: null, warn: () => undefined });
  t.same([...f.load().entries()], [['d1', { main: { bootId: 5n, seq: 5n }, ahead: null }]], 'the valid record is kept');
  f.close();
  t.equal(readFileSync(path).length, RECORD_BYTES, 'and the garbage is gone');
  const warnings: string[] = [];
  const g = new ReplayGuard({ store: new ReplayFile({ path: join(dir, 'missing', 'peer-marks'), capacity: 4, nodes: null, warn: (m) => warnings.push(m) }) });
  t.equal(g.check('d1', 1n, 1n, NOW), 'ok', 'the guard still works from memory');
  t.equal(warnings.length, 1, 'one warning');
  t.match(warnings[0], /kept in memory only/);
});

t.test('drop counters', async (t) => {
  const c = new DropCounters();
  const zero = c.snapshot();
  t.same(Object.keys(zero).sort(), [...DROP_REASONS].sort(), 'every reason listed from the start');
  t.ok(Object.values(zero).every((v) => v === 0));
  c.count('bad-mac');
  c.count('bad-mac');
  c.count('replay');
  const s = c.snapshot();
  t.equal(s['bad-mac'], 2);
  t.equal(s.replay, 1);
  t.equal(s.truncated, 0);
  c.count('bad-mac');
  t.equal(s['bad-mac'], 2, 'an earlier snapshot does not move');
  t.ok(Object.isFrozen(s));
  t.equal(zero['bad-mac'], 0);
});
