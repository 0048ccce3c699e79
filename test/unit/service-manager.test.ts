/**
 * systemd notifications: the environment parsing, the messages in their order, the watchdog
 * keep-alive that stops when the election loop stalls, failures logged once, and the real
 * AF_UNIX datagram path (unix-dgram) against a socket bound in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { serviceSocketPath, openUnixDgram, ServiceManager, takeServiceEnv, watchdogSetting, type ServiceChannel, type ServiceEnv } from '../../src/adapters/service-manager.js';
import { Driver } from '../../src/daemon/driver.js';
import { serviceStatusLine } from '../../src/daemon/status-view.js';
import { createLogger } from '../../src/log.js';
import { parse, withLines } from './config-harness.js';

type LogLine = { level: number; msg: string } & Record<string, unknown>;

class FakeTimers {
  fns = new Map<number, { fn: () => void; ms: number }>();
  private next = 1;
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.fns.set(id, { fn, ms });
    return id;
  }
  clearInterval(h: unknown): void {
    this.fns.delete(h as number);
  }
  fire(): void {
    for (const { fn } of [...this.fns.values()]) fn();
  }
}

function setup(env: ServiceEnv, opts: { failSend?: () => boolean; openThrows?: boolean } = {}) {
  const lines: LogLine[] = [];
  const log = createLogger('info', 'd0', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const sent: string[] = [];
  const opened: string[] = [];
  let closed = 0;
  const timers = new FakeTimers();
  const open = (path: string): ServiceChannel => {
    if (opts.openThrows) throw new Error('Cannot find module unix-dgram');
    opened.push(path);
    return {
      send: (m) => {
        if (opts.failSend?.()) throw new Error('send -111');
        sent.push(m);
      },
      close: () => void closed++,
    };
  };
  const sm = new ServiceManager({ env, pid: 4242, log, timers, open, monotonicUsec: () => 123456789n });
  return { sm, sent, opened, lines, timers, closedCount: () => closed };
}

t.test('watchdogSetting: half of WATCHDOG_USEC, only for this process', async (t) => {
  t.same(watchdogSetting({}, 1), null, 'no watchdog');
  t.same(watchdogSetting({ WATCHDOG_USEC: '' }, 1), null, 'empty: none');
  t.same(watchdogSetting({ WATCHDOG_USEC: '5000000' }, 1), { pingMs: 2500 });
  t.same(watchdogSetting({ WATCHDOG_USEC: '5000000', WATCHDOG_PID: '7' }, 7), { pingMs: 2500 }, 'our pid');
  t.same(watchdogSetting({ WATCHDOG_USEC: '5000000', WATCHDOG_PID: '8' }, 7), null, 'another process is watched');
  t.same(watchdogSetting({ WATCHDOG_USEC: '1000' }, 1), { pingMs: 1 }, 'never below 1 ms');
  for (const bad of ['0', '-5', '5s', '1e6', ' 100']) {
    t.match(watchdogSetting({ WATCHDOG_USEC: bad }, 1), { error: /WATCHDOG_USEC=.*expected a positive number of microseconds/ }, `refuses ${JSON.stringify(bad)}`);
  }
});

t.test('serviceSocketPath: absolute paths only', async (t) => {
  t.same(serviceSocketPath(undefined), null);
  t.same(serviceSocketPath(''), null);
  t.same(serviceSocketPath('/run/systemd/notify'), { path: '/run/systemd/notify' });
  t.match(serviceSocketPath('@/org/freedesktop/systemd1/notify'), { error: /abstract sockets are not supported/ });
  t.match(serviceSocketPath('run/notify'), { error: /expected an absolute path/ });
});

t.test('without NOTIFY_SOCKET nothing is opened or sent', async (t) => {
  const { sm, sent, opened, timers } = setup({ WATCHDOG_USEC: '1000000' });
  t.notOk(sm.enabled);
  t.equal(sm.watchdogPingMs, null, 'a watchdog without a socket is ignored');
  sm.ready('x');
  sm.status('y');
  sm.reloading();
  sm.stopping();
  sm.startWatchdog(() => true);
  t.same(sent, []);
  t.same(opened, []);
  t.equal(timers.fns.size, 0, 'no keep-alive timer');
});

t.test('messages in the protocol format', async (t) => {
  const { sm, sent, opened, lines } = setup({ NOTIFY_SOCKET: '/run/systemd/notify' });
  t.ok(sm.enabled);
  t.same(opened, ['/run/systemd/notify']);
  sm.ready('web active 198.51.100.100/32');
  sm.status('web standby\n(active: d1)');
  sm.reloading();
  sm.ready();
  sm.stopping();
  t.same(sent, [
    'READY=1\nSTATUS=web active 198.51.100.100/32',
    'STATUS=web standby (active: d1)',
    'RELOADING=1\nMONOTONIC_USEC=123456789',
    'READY=1',
    'STOPPING=1',
  ]);
  t.same(lines, [], 'nothing logged on success');
});

t.test('the watchdog pings while the loop turns, withholds while it stalls, resumes', async (t) => {
  const { sm, sent, lines, timers, closedCount } = setup({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '4000000' });
  t.equal(sm.watchdogPingMs, 2000);
  let alive = true;
  sm.startWatchdog(() => alive);
  t.same(sent, ['WATCHDOG=1'], 'first keep-alive at once');
  t.same([...timers.fns.values()].map((x) => x.ms), [2000], 'then every half period');
  sm.startWatchdog(() => true);
  t.equal(timers.fns.size, 1, 'a second start adds no timer');
  timers.fire();
  alive = false;
  timers.fire();
  timers.fire();
  t.equal(sent.length, 2, 'no keep-alive while stalled');
  t.equal(lines.filter((l) => /stalled/.test(l.msg)).length, 1, 'the stall is logged once');
  t.equal(lines[0]!.level, 50, 'as an error');
  alive = true;
  timers.fire();
  t.equal(sent.length, 3, 'keep-alives resume');
  t.match(lines[1], { msg: /turning again/ });
  sm.close();
  t.equal(timers.fns.size, 0, 'close stops the timer');
  t.equal(closedCount(), 1, 'and closes the socket');
  sm.ready();
  t.equal(sent.length, 3, 'nothing is sent after close');
});

t.test('a failing socket is logged once per run of failures, never thrown', async (t) => {
  let failing = true;
  const { sm, sent, lines } = setup({ NOTIFY_SOCKET: '/run/n' }, { failSend: () => failing });
  sm.ready();
  sm.status('a');
  sm.stopping();
  t.same(sent, []);
  t.equal(lines.length, 1, 'one error for three failures');
  t.match(lines[0], { level: 50, msg: 'systemd notification failed', err: 'send -111', message: 'READY=1' });
  failing = false;
  sm.status('b');
  t.same(sent, ['STATUS=b']);
  t.match(lines[1], { level: 30, failed: 3 });
});

t.test('an unusable NOTIFY_SOCKET or addon disables notifications with an error', async (t) => {
  const a = setup({ NOTIFY_SOCKET: '@abstract' });
  t.notOk(a.sm.enabled);
  t.match(a.lines[0], { level: 50, msg: /abstract sockets are not supported/ });
  const b = setup({ NOTIFY_SOCKET: '/run/n' }, { openThrows: true });
  t.notOk(b.sm.enabled);
  t.match(b.lines[0], { level: 50, msg: /readiness and watchdog are not reported/, err: /unix-dgram/ });
  const c = setup({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: 'soon' });
  t.ok(c.sm.enabled, 'a bad WATCHDOG_USEC still allows READY=1');
  t.equal(c.sm.watchdogPingMs, null);
  t.match(c.lines[0], { level: 50, msg: /WATCHDOG_USEC/ });
});

t.test('takeServiceEnv removes the variables from the environment', async (t) => {
  const env: NodeJS.ProcessEnv = { PATH: '/bin', NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '10', WATCHDOG_PID: '3' };
  t.same(takeServiceEnv(env), { NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '10', WATCHDOG_PID: '3' });
  t.same(env, { PATH: '/bin' }, 'hooks started later do not inherit them');
});

t.test('serviceStatusLine: one line per agent', async (t) => {
  t.equal(serviceStatusLine([], 'd0'), 'no groups');
  t.equal(
    serviceStatusLine(
      [
        { name: 'web', state: 'active', vip: '198.51.100.100/32', activeNode: 'd0' },
        { name: 'db', state: 'standby', vip: '198.51.100.101/32', activeNode: 'd1' },
        { name: 'ftp', state: 'fault', vip: '198.51.100.102/32', activeNode: null },
      ],
      'd0',
    ),
    'web active 198.51.100.100/32; db standby (active: d1); ftp fault',
  );
});

t.test('Driver.turning: true while the core timer fires, false when it stops', async (t) => {
  let now = 1000;
  const pending: { at: number; fn: () => void }[] = [];
  const timers = {
    setTimeout: (fn: () => void, ms: number) => {
      const p = { at: now + ms, fn };
      pending.push(p);
      return p;
    },
    clearTimeout: (h: unknown) => {
      const i = pending.indexOf(h as (typeof pending)[number]);
      if (i >= 0) pending.splice(i, 1);
    },
    afterPoll: (fn: () => void) => fn(),
  };
  // The VIP and announce results come back as promises: let them land before each timer.
  const settle = () => new Promise((r) => setImmediate(r));
  const advance = async (ms: number) => {
    const until = now + ms;
    for (let i = 0; i < 10_000; i++) {
      await settle();
      pending.sort((a, b) => a.at - b.at);
      const p = pending[0];
      if (!p || p.at > until) break;
      pending.shift();
      now = p.at;
      p.fn();
    }
    now = until;
  };
  const silent = createLogger('silent', 'd0');
  const driver = new Driver({
    config: parse(withLines()),
    key: Buffer.alloc(32, 1),
    bootId: 1n,
    clock: { now: () => now },
    log: silent,
    transport: { broadcast: () => undefined, onMessage: () => undefined, onUnreachable: () => undefined, close: async () => undefined },
    vipHost: { ensurePresent: async () => ({ ok: true, changed: true }), ensureAbsent: async () => ({ ok: true, changed: true }) },
    announcer: { announce: async () => ({ sent: 0, errors: [] }), close: () => undefined },
    timers,
  });
  t.notOk(driver.turning(300), 'not before start');
  driver.start();
  t.ok(driver.turning(300), 'start counts as a turn');
  await advance(1000);
  t.ok(driver.turning(300), 'ticks keep coming at the heartbeat interval');
  // The timer is lost (a stalled loop): time passes, nothing fires.
  pending.splice(0);
  // The last tick was at most one interval and a quarter (a follower's slack) ago.
  await advance(150);
  t.ok(driver.turning(300), 'within the bound');
  await advance(200);
  t.notOk(driver.turning(300), 'past the bound: stalled');
  // Any input is a turn: a follower's timer, pushed out by the leader's heartbeats, may
  // never fire while all is well.
  driver.feed({ kind: 'unreachable', now, address: '198.51.100.250', verified: false });
  t.ok(driver.turning(300), 'an input other than the timer is a turn too');
  pending.splice(0); // the timer that input armed is lost too
  await advance(301);
  t.notOk(driver.turning(300), 'and stalled again once nothing came for longer than the bound');
  driver.stop();
  t.notOk(driver.turning(1e9), 'a stopped driver does not turn');
});

t.test('openUnixDgram delivers to a real AF_UNIX datagram socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-sd-'));
  const require = createRequire(import.meta.url);
  const udg = require('unix-dgram') as {
    createSocket(type: 'unix_dgram', fn: (buf: Buffer) => void): { bind(p: string): void; close(): void; on(e: string, fn: (e: Error) => void): void };
  };
  const got: string[] = [];
  const server = udg.createSocket('unix_dgram', (buf) => got.push(buf.toString()));
  const path = join(dir, 'notify');
  try {
    server.bind(path);
    const ch = openUnixDgram(path);
    ch.send('READY=1\nSTATUS=ok');
    ch.send('WATCHDOG=1');
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    t.same(got, ['READY=1\nSTATUS=ok', 'WATCHDOG=1']);
    ch.close();
    const gone = openUnixDgram(join(dir, 'nobody-listens'));
    t.throws(() => gone.send('READY=1'), 'a missing socket throws (the manager logs it)');
    gone.close();
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
