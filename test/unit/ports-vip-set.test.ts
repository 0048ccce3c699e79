/**
 * ensureVips / gather (src/ports/vip-set.ts): outcomes in the order asked whatever order the
 * answers come in, a throw or a rejection is that VIP's failure, one VIP is one plain call,
 * several go to ensureAll when the host has it, and then() is called on every answer at once.
 */
import t from 'tap';
import type { EnsureOutcome, VipHost, VipPlacement } from '../../src/ports/index.js';
import { ensureVips, gather } from '../../src/ports/vip-set.js';

const P = (n: number, iface = 'eth0'): VipPlacement => ({ vip: { address: `198.51.100.${n}`, prefix: 32, family: 4 }, iface });

t.test('gather: in call order, failures in place, done once', async (t) => {
  const resolvers: ((v: string) => void)[] = [];
  const got: string[][] = [];
  gather<string>(
    [() => new Promise((r) => resolvers.push(r)), () => { throw new Error('boom'); }, () => Promise.reject(new Error('nope')), () => new Promise((r) => resolvers.push(r))],
    (e) => `failed: ${(e as Error).message}`,
    (outs) => got.push(outs),
  );
  resolvers[1]!('second');
  await Promise.resolve();
  t.same(got, [], 'not before every answer is in');
  resolvers[0]!('first');
  await new Promise((r) => setImmediate(r));
  t.same(got, [['first', 'failed: boom', 'failed: nope', 'second']]);
  const empty: string[][] = [];
  gather<string>([], () => '', (outs) => empty.push(outs));
  t.same(empty, [[]], 'nothing to wait for: done at once');
});

t.test('gather calls then() on each answer as it is returned (a thenable settled later by its owner)', async (t) => {
  const waiting: ((v: number) => void)[] = [];
  const thenable = { then: (ok: (v: number) => void) => void waiting.push(ok) } as unknown as PromiseLike<number>;
  const got: number[][] = [];
  gather([() => thenable, () => thenable], () => -1, (outs) => got.push(outs));
  t.equal(waiting.length, 2, 'then() called during gather itself');
  waiting[0]!(1);
  waiting[1]!(2);
  t.same(got, [[1, 2]], 'done synchronously with the last answer');
});

class Host implements VipHost {
  calls: string[] = [];
  ensurePresent = async (v: VipPlacement['vip'], i: string): Promise<EnsureOutcome> => (this.calls.push(`+${v.address}@${i}`), { ok: true, changed: true });
  ensureAbsent = async (v: VipPlacement['vip'], i: string): Promise<EnsureOutcome> => (this.calls.push(`-${v.address}@${i}`), { ok: true, changed: false });
}

t.test('ensureVips: one VIP is one plain call; several go to ensureAll when there is one, else one call each', async (t) => {
  const plain = new Host();
  t.same(await ensureVips(plain, [P(1), P(2, 'eth1')], true), [{ ok: true, changed: true }, { ok: true, changed: true }]);
  t.same(plain.calls, ['+198.51.100.1@eth0', '+198.51.100.2@eth1']);
  const all: number[] = [];
  const batched = Object.assign(new Host(), { ensureAll: async (ps: readonly VipPlacement[]) => (all.push(ps.length), ps.map((): EnsureOutcome => ({ ok: true, changed: false }))) });
  await ensureVips(batched, [P(1)], false);
  t.same(batched.calls, ['-198.51.100.1@eth0'], 'one VIP: not ensureAll');
  await ensureVips(batched, [P(1), P(2), P(3)], false);
  t.same(all, [3], 'three: one ensureAll call');
  const throwing: VipHost = { ensurePresent: () => Promise.resolve({ ok: true, changed: true }), ensureAbsent: () => Promise.resolve({ ok: true, changed: true }), ensureAll: () => Promise.reject(new Error('batch gone')) };
  t.same(await ensureVips(throwing, [P(1), P(2)], true), [{ ok: false, error: 'batch gone' }, { ok: false, error: 'batch gone' }], 'a rejected ensureAll fails every VIP');
});
