/**
 * `haagent events` beyond transitions: the feed derives peer up/down, path down/up,
 * maintenance, health and conflict events from the core's state after each step, only while
 * someone follows. The core is faked by a plain object with the fields the digest reads.
 */
import t from 'tap';
import type { CoreView } from '../../src/core/read-view.js';
import { EventFeed, digestEvents, eventDigest } from '../../src/daemon/event-feed.js';

interface FakePeer { node: string; reportedAlive: boolean; paths: { address: string; warned: boolean }[] }
interface FakeGroup { name: string; healthFault: string | null; healthPending: string | null; healthPenalty: number; conflicts: number; lastConflict: { macs: string[]; at: number } | null }

function fakeCore() {
  const state = {
    maintenance: false,
    peers: [] as FakePeer[],
    groups: [{ name: 'web', healthFault: null, healthPending: null, healthPenalty: 0, conflicts: 0, lastConflict: null }] as FakeGroup[],
  };
  const view = {
    get maintenance() { return state.maintenance; },
    peers: { all: () => state.peers },
    get groups() { return state.groups; },
    group: (name: string) => state.groups.find((g) => g.name === name),
  } as unknown as CoreView;
  return { state, view };
}

const d1 = (over: Partial<FakePeer> = {}): FakePeer => ({ node: 'd1', reportedAlive: true, paths: [{ address: '198.51.100.11', warned: false }, { address: '203.0.113.11', warned: false }], ...over });

t.test('each change once, in a fixed order; nothing when nothing changed', async (t) => {
  const { state, view } = fakeCore();
  const before = eventDigest(view);
  t.same(digestEvents(before, eventDigest(view), view), [], 'no change, no event');
  state.peers.push(d1());
  state.maintenance = true;
  const a = eventDigest(view);
  t.same(digestEvents(before, a, view), [{ event: 'maintenance', on: true }, { event: 'peer-up', peer: 'd1' }]);
  state.peers[0]!.paths[1]!.warned = true;
  const b = eventDigest(view);
  t.same(digestEvents(a, b, view), [{ event: 'path-down', peer: 'd1', address: '203.0.113.11' }]);
  state.peers[0]!.paths[1]!.warned = false;
  const c = eventDigest(view);
  t.same(digestEvents(b, c, view), [{ event: 'path-up', peer: 'd1', address: '203.0.113.11' }]);
  state.peers[0]!.reportedAlive = false;
  state.maintenance = false;
  t.same(digestEvents(c, eventDigest(view), view), [{ event: 'maintenance', on: false }, { event: 'peer-down', peer: 'd1' }]);
});

t.test('health verdicts and conflicts of a group; a group added by a reload is not reported here', async (t) => {
  const { state, view } = fakeCore();
  const before = eventDigest(view);
  const web = state.groups[0]!;
  web.healthPenalty = 50;
  web.conflicts = 1;
  web.lastConflict = { macs: ['02:00:00:00:00:09'], at: 5 };
  state.groups.push({ name: 'db', healthFault: 'link eth1 down', healthPending: null, healthPenalty: 0, conflicts: 0, lastConflict: null });
  const after = eventDigest(view);
  t.same(digestEvents(before, after, view), [
    { event: 'health', group: 'web', fault: null, pending: null, penalty: 50 },
    { event: 'conflict', group: 'web', conflicts: 1, macs: ['02:00:00:00:00:09'] },
  ]);
  web.healthFault = 'check http failing';
  t.same(digestEvents(after, eventDigest(view), view), [{ event: 'health', group: 'web', fault: 'check http failing', pending: null, penalty: 50 }]);
});

t.test('the feed: stamped lines to every follower, a baseline at the first follower, no work without one', async (t) => {
  const { state, view } = fakeCore();
  let digests = 0;
  const feed = new EventFeed(() => 'd0', () => (digests++, view), () => 'T');
  feed.observe();
  feed.emit({ event: 'reload', groups: ['web'] });
  t.equal(digests, 0, 'nobody follows: no digest taken');
  state.peers.push(d1());
  const a: object[] = [];
  const b: object[] = [];
  const stopA = feed.source((ev) => a.push(ev));
  feed.source((ev) => b.push(ev));
  feed.observe();
  t.same(a, [], 'what was there before the first follower is the baseline, not an event');
  state.peers[0]!.reportedAlive = false;
  feed.observe();
  feed.emit({ event: 'transition', group: 'web', from: 'standby', to: 'active' });
  const want = [{ time: 'T', node: 'd0', event: 'peer-down', peer: 'd1' }, { time: 'T', node: 'd0', event: 'transition', group: 'web', from: 'standby', to: 'active' }];
  t.same(a, want);
  t.same(b, want, 'every follower gets every line');
  stopA();
  state.maintenance = true;
  feed.observe();
  t.equal(a.length, 2, 'unsubscribed');
  t.same(b.at(-1), { time: 'T', node: 'd0', event: 'maintenance', on: true });
});

t.test('before the core exists the feed only passes emitted events', async (t) => {
  const feed = new EventFeed(() => 'd0', () => null, () => 'T');
  const got: object[] = [];
  feed.source((ev) => got.push(ev));
  feed.observe();
  feed.emit({ event: 'reload', groups: [] });
  t.same(got, [{ time: 'T', node: 'd0', event: 'reload', groups: [] }]);
});
