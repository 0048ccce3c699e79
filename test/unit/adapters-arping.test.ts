// ArpingAnnouncer with a fake ChildStarter and a fake sleep: the exact argv per form, the
// number of frames, the spacing between steps, and how start and exit failures surface.
import { DEFAULTS } from '../../src/config/defaults.js';
import t from 'tap';
import { ArpingAnnouncer, IPV6_NOT_ARP } from '../../src/adapters/arping.js';
import type { ChildExit, ChildExitHandler, ChildStart, ChildStarter } from '../../src/adapters/child-tracker.js';
import type { GarpConfig, Vip } from '../../src/config/types.js';

const VIP: Vip = { address: '198.51.100.100', prefix: 32, family: 4 };

/** Records every start and every sleep in one timeline; exits are triggered by the test. */
class FakeTracker implements ChildStarter {
  log: string[] = [];
  lives: number[] = [];
  exits: ChildExitHandler[] = [];
  killed = 0;
  constructor(private readonly fail: string | null = null) {}
  async start(argv: readonly string[], maxLifeMs: number, onExit?: ChildExitHandler): Promise<ChildStart> {
    this.log.push(argv.join(' '));
    this.lives.push(maxLifeMs);
    if (onExit) this.exits.push(onExit);
    return this.fail === null ? { pid: 1000 + this.log.length } : { error: this.fail };
  }
  killAll(): void {
    this.killed++;
  }
  running(): number {
    return 0;
  }
}

function setup(fail: string | null = null, extra: { onFailure?: (e: ChildExit) => void } = {}) {
  const tracker = new FakeTracker(fail);
  const sleep = async (ms: number) => {
    tracker.log.push(`sleep ${ms}`);
  };
  return { tracker, announcer: new ArpingAnnouncer(tracker, { sleep, ...extra }) };
}
const garp = (form: GarpConfig['form'], count: number, spacing = 200): GarpConfig => ({ form, count, spacing, refresh: 0 });

t.test('request form: count frames of arping -U, spaced, no wait after the last', async (t) => {
  const { tracker, announcer } = setup();
  t.same(await announcer.announce(VIP, 'eth0', garp('request', 3)), { sent: 3, errors: [] });
  t.same(tracker.log, [
    'arping -U -c 1 -I eth0 198.51.100.100',
    'sleep 200',
    'arping -U -c 1 -I eth0 198.51.100.100',
    'sleep 200',
    'arping -U -c 1 -I eth0 198.51.100.100',
  ]);
  t.same(tracker.lives, [DEFAULTS.commands.arpingLife, DEFAULTS.commands.arpingLife, DEFAULTS.commands.arpingLife], 'each child bounded');
});

t.test('reply form uses -A', async (t) => {
  const { tracker, announcer } = setup();
  t.same(await announcer.announce(VIP, 'eth1', garp('reply', 1)), { sent: 1, errors: [] });
  t.same(tracker.log, ['arping -A -c 1 -I eth1 198.51.100.100']);
});

t.test('both: one request and one reply per step, the step spacing between pairs', async (t) => {
  const { tracker, announcer } = setup();
  t.same(await announcer.announce(VIP, 'eth0', garp('both', 2, 50)), { sent: 4, errors: [] });
  t.same(tracker.log, [
    'arping -U -c 1 -I eth0 198.51.100.100',
    'arping -A -c 1 -I eth0 198.51.100.100',
    'sleep 50',
    'arping -U -c 1 -I eth0 198.51.100.100',
    'arping -A -c 1 -I eth0 198.51.100.100',
  ]);
});

t.test('count 0 sends nothing', async (t) => {
  const { tracker, announcer } = setup();
  t.same(await announcer.announce(VIP, 'eth0', garp('both', 0)), { sent: 0, errors: [] });
  t.same(tracker.log, []);
});

t.test('arping missing: every start failure is reported with its command line', async (t) => {
  const { announcer } = setup('spawn arping ENOENT');
  const out = await announcer.announce(VIP, 'eth0', garp('request', 2));
  t.equal(out.sent, 0);
  t.same(out.errors, [
    'arping -U -c 1 -I eth0 198.51.100.100: spawn arping ENOENT',
    'arping -U -c 1 -I eth0 198.51.100.100: spawn arping ENOENT',
  ]);
});

t.test('arpingPath and maxLifeMs options', async (t) => {
  const tracker = new FakeTracker();
  const a = new ArpingAnnouncer(tracker, { arpingPath: '/usr/bin/arping', maxLifeMs: 900, sleep: async () => undefined });
  await a.announce(VIP, 'eth0', garp('request', 1));
  t.same(tracker.log, ['/usr/bin/arping -U -c 1 -I eth0 198.51.100.100']);
  t.same(tracker.lives, [900]);
});

t.test('exit failures reach onFailure; clean exits and our own kills do not', async (t) => {
  const failures: ChildExit[] = [];
  const { tracker, announcer } = setup(null, { onFailure: (e) => failures.push(e) });
  await announcer.announce(VIP, 'nosuch', garp('request', 4));
  const base = { argv: ['arping'], pid: 1, stderr: '' };
  tracker.exits[0]({ ...base, code: 0, signal: null, killed: false });
  tracker.exits[1]({ ...base, code: null, signal: 'SIGKILL', killed: true });
  tracker.exits[2]({ ...base, code: 2, signal: null, stderr: 'arping: unknown iface nosuch', killed: false });
  tracker.exits[3]({ ...base, code: null, signal: 'SIGSEGV', killed: false });
  t.same(failures.map((f) => [f.code, f.signal]), [[2, null], [null, 'SIGSEGV']]);
  t.equal(failures[0].stderr, 'arping: unknown iface nosuch');
});

t.test('IPv6 VIP: not for arping, reported, nothing started', async (t) => {
  const { tracker, announcer } = setup();
  const out = await announcer.announce({ address: '2001:db8::100', prefix: 128, family: 6 }, 'eth0', garp('both', 3));
  t.same(out, { sent: 0, errors: [IPV6_NOT_ARP] });
  t.same(tracker.log, []);
});

t.test('close() kills the senders and ends a burst in progress', async (t) => {
  const tracker = new FakeTracker();
  let announcer: ArpingAnnouncer | undefined = undefined;
  const sleep = async (ms: number) => {
    tracker.log.push(`sleep ${ms}`);
    announcer?.close(); // shutdown arrives while the burst waits
  };
  announcer = new ArpingAnnouncer(tracker, { sleep });
  const out = await announcer.announce(VIP, 'eth0', garp('request', 5));
  t.same(out, { sent: 1, errors: [] });
  t.same(tracker.log, ['arping -U -c 1 -I eth0 198.51.100.100', 'sleep 200']);
  t.equal(tracker.killed, 1);
});

t.test('an aborted signal ends the burst before its next step (the VIP is being released)', async (t) => {
  const tracker = new FakeTracker();
  const ctl = new AbortController();
  const sleep = async (ms: number) => {
    tracker.log.push(`sleep ${ms}`);
    ctl.abort();
  };
  const announcer = new ArpingAnnouncer(tracker, { sleep });
  const out = await announcer.announce(VIP, 'eth0', garp('both', 3), ctl.signal);
  t.same(out, { sent: 2, errors: [] });
  t.same(tracker.log, ['arping -U -c 1 -I eth0 198.51.100.100', 'arping -A -c 1 -I eth0 198.51.100.100', 'sleep 200']);
  const none = await announcer.announce(VIP, 'eth0', garp('both', 3), ctl.signal);
  t.same(none, { sent: 0, errors: [] }, 'already aborted: nothing sent');
});

t.test('an abort while the request\'s arping starts stops the reply half of the same step', async (t) => {
  const ctl = new AbortController();
  const tracker = new FakeTracker();
  const start = tracker.start.bind(tracker);
  tracker.start = async (argv, life, onExit) => {
    const r = await start(argv, life, onExit);
    ctl.abort(); // the release arrives while the first frame's child is being spawned
    return r;
  };
  const announcer = new ArpingAnnouncer(tracker, { sleep: async () => undefined });
  const out = await announcer.announce(VIP, 'eth0', garp('both', 3), ctl.signal);
  t.same(out, { sent: 1, errors: [] });
  t.same(tracker.log, ['arping -U -c 1 -I eth0 198.51.100.100'], 'no arping -A for a VIP being given up');
});
