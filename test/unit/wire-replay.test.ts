import t from 'tap';
import { ReplayGuard, DEFAULT_REPLAY_CAPACITY } from '../../src/wire/replay.js';
import { DropCounters } from '../../src/wire/counters.js';
import { DROP_REASONS } from '../../src/wire/types.js';

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
    t.equal(g.check('a', boot, seq), want, `(${boot}, ${seq}): ${why}`);
  }
  t.same(g.last('a'), { bootId: 11n, seq: 2n });
});

t.test('nodes are tracked apart; forget resets one', async (t) => {
  const g = new ReplayGuard();
  t.equal(g.check('a', 5n, 5n), 'ok');
  t.equal(g.check('b', 1n, 1n), 'ok', 'another node has its own mark');
  t.equal(g.check('b', 1n, 1n), 'replay');
  t.equal(g.check('a', 5n, 5n), 'replay');
  g.forget('a');
  t.equal(g.last('a'), undefined);
  t.equal(g.check('a', 1n, 1n), 'ok', 'a forgotten node starts over');
  t.equal(g.check('b', 1n, 1n), 'replay', 'forget touched only that node');
  t.equal(g.size, 2);
});

t.test('eviction cap: least recently accepted goes first', async (t) => {
  const g = new ReplayGuard({ capacity: 3 });
  g.check('a', 1n, 1n);
  g.check('b', 1n, 1n);
  g.check('c', 1n, 1n);
  g.check('a', 1n, 2n); // a accepted again: b is now the least recent
  t.equal(g.check('b', 0n, 9n), 'old-boot', 'refusal does not refresh b');
  t.equal(g.check('d', 1n, 1n), 'ok');
  t.equal(g.size, 3, 'never more than capacity');
  t.equal(g.last('b'), undefined, 'b evicted');
  t.same(g.last('a'), { bootId: 1n, seq: 2n }, 'a kept');
  t.ok(g.last('c') && g.last('d'), 'c and d kept');
  t.equal(g.check('b', 1n, 1n), 'ok', 'an evicted node is accepted as new (documented cost)');
  t.equal(g.last('c'), undefined, 'which evicts the next least recent');
});

t.test('default capacity holds and bounds many nodes', async (t) => {
  const g = new ReplayGuard();
  const n = DEFAULT_REPLAY_CAPACITY * 3;
  for (let i = 0; i < n; i++) t.equal(g.check(`n${i}`, 1n, 1n), 'ok', `n${i}`, { diagnostic: false });
  t.equal(g.size, DEFAULT_REPLAY_CAPACITY);
  t.equal(g.check(`n${n - 1}`, 1n, 1n), 'replay', 'the newest are still tracked');
  t.throws(() => new ReplayGuard({ capacity: 0 }), RangeError);
});

t.test('last() hands out a copy', async (t) => {
  const g = new ReplayGuard();
  g.check('a', 1n, 1n);
  const m = g.last('a')!;
  m.seq = 100n;
  t.equal(g.check('a', 1n, 2n), 'ok', 'mutating the copy changed nothing');
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
  t.equal(c.total(), 3);
  c.count('bad-mac');
  t.equal(s['bad-mac'], 2, 'an earlier snapshot does not move');
  t.ok(Object.isFrozen(s));
  t.equal(zero['bad-mac'], 0);
});
