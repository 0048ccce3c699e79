// The real-server role as a service (src/realserver/role.ts) against fakes: an in-memory host,
// the real sysctl adapter over an in-memory file system, a real state file in a temp directory,
// a manual timer queue (nothing sleeps) and the log captured as JSON lines. The stories:
// apply on start, re-apply a drift with a warning naming it, undo on stop (or not).
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RealServerConfig, Vip } from '../../src/config/types.js';
import type { Timers } from '../../src/ports/index.js';
import { Ipv4ConfSysctl } from '../../src/adapters/sysctl.js';
import { RealServerRole } from '../../src/realserver/role.js';
import { readStateFile } from '../../src/realserver/state.js';
import { addr, FakeHost, MemFs, ROOT } from './realserver-fakes.js';
import { createLogger } from '../../src/log.js';

const VIP: Vip = { address: '198.51.100.100', prefix: 32, family: 4 };




/** A manual timer queue: the test fires the pending timer and awaits the next scheduling. */
class ManualTimers implements Timers {
  pending: { fn: () => void; ms: number; id: number } | null = null;
  private nextId = 1;
  private waiter: (() => void) | null = null;
  setTimeout(fn: () => void, ms: number): number {
    if (this.pending) throw new Error('the role scheduled two rechecks at once');
    this.pending = { fn, ms, id: this.nextId++ };
    this.waiter?.();
    return this.pending.id;
  }
  clearTimeout(id: unknown): void {
    if (this.pending?.id === id) this.pending = null;
  }
  /** Fires the pending timer; resolves once the role has scheduled the next one. */
  async fireAndWait(): Promise<void> {
    const p = this.pending;
    if (!p) throw new Error('no timer pending');
    this.pending = null;
    const next = new Promise<void>((resolve) => (this.waiter = resolve));
    p.fn();
    await next;
    this.waiter = null;
  }
}

interface LogLine {
  level: number;
  msg: string;
  drift?: string[];
}

interface Rig {
  role: RealServerRole;
  host: FakeHost;
  fs: MemFs;
  timers: ManualTimers;
  logs: LogLine[];
  cfg: RealServerConfig;
}

const WARN = 40;
const ERROR = 50;

function rig(t: Test, over: Partial<RealServerConfig> = {}): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-rs-role-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fs = new MemFs();
  for (const name of ['all/arp_ignore', 'all/arp_announce', 'eth0/arp_ignore', 'eth0/arp_announce']) fs.set(name, 0);
  fs.set('all/arp_announce', 1); // a non-default value: the undo must bring back this, not 0
  const host = new FakeHost();
  const timers = new ManualTimers();
  const logs: LogLine[] = [];
  const log = createLogger('debug', 'r0', { write: (s: string) => void logs.push(JSON.parse(s) as LogLine) });
  const cfg: RealServerConfig = { vips: [VIP], interface: 'eth0', stateFile: join(dir, 'realserver.json'), recheck: 500, undoOnStop: true, ...over };
  const role = new RealServerRole(cfg, { host, sysctl: new Ipv4ConfSysctl(fs), bootId: async () => 'boot-1', timers }, log);
  return { role, host, fs, timers, logs, cfg };
}

const msgs = (logs: LogLine[], from = 0) => logs.slice(from).map((l) => l.msg);
const SET = ['set net.ipv4.conf.all.arp_ignore 0 -> 1', 'set net.ipv4.conf.all.arp_announce 1 -> 2', 'set net.ipv4.conf.eth0.arp_ignore 0 -> 1', 'set net.ipv4.conf.eth0.arp_announce 0 -> 2', 'added 198.51.100.100/32 to lo'];

t.test('start applies the role, logs every change and schedules the recheck', async (t) => {
  const { role, host, fs, timers, logs } = rig(t);
  const r = await role.start();
  t.same(r.errors, []);
  t.same(r.done, SET);
  for (const line of SET) t.ok(logs.some((l) => l.msg === line && l.level === 30), `logged at info: ${line}`);
  t.ok(host.has(VIP), 'VIP on lo');
  t.same([fs.get('all/arp_ignore'), fs.get('all/arp_announce'), fs.get('eth0/arp_ignore'), fs.get('eth0/arp_announce')], [1, 2, 1, 2]);
  t.equal(timers.pending?.ms, 500, 'the next check in `recheck`');
});

t.test('a clean recheck changes nothing, warns about nothing, and schedules the next', async (t) => {
  const { role, timers, logs } = rig(t);
  await role.start();
  const mark = logs.length;
  await timers.fireAndWait();
  t.same(logs.slice(mark).filter((l) => l.level >= WARN), []);
  t.same(msgs(logs, mark).filter((m) => m.startsWith('set ') || m.startsWith('added ')), []);
  t.equal(timers.pending?.ms, 500);
});

t.test('a sysctl undone by hand is re-applied with a warning naming it; stop restores what start found', async (t) => {
  const { role, fs, timers, logs, cfg } = rig(t);
  await role.start();
  fs.set('all/arp_announce', 0); // someone (configuration management) resets it
  const mark = logs.length;
  await timers.fireAndWait();
  const warn = logs.slice(mark).find((l) => l.level === WARN);
  t.match(warn?.msg, /^real-server role drifted, re-applying: net\.ipv4\.conf\.all\.arp_announce is 0, want 2$/);
  t.same(warn?.drift, ['net.ipv4.conf.all.arp_announce is 0, want 2']);
  t.ok(msgs(logs, mark).includes('set net.ipv4.conf.all.arp_announce 0 -> 2'), 'the re-apply logged');
  t.equal(fs.get('all/arp_announce'), 2, 're-applied');
  const rec = await readStateFile(cfg.stateFile);
  t.match(rec, { kind: 'ok', state: { sysctls: [{ iface: 'all', key: 'arp_ignore' }, { iface: 'all', key: 'arp_announce', found: 1, set: 2 }] } }, 'the record keeps the value start found');
  const mark2 = logs.length;
  const down = await role.stop();
  t.same(down?.errors, []);
  t.equal(fs.get('all/arp_announce'), 1, 'restored to the value found at start, not the drifted one');
  t.ok(msgs(logs, mark2).includes('restored net.ipv4.conf.all.arp_announce 2 -> 1'), 'each restoration logged');
  t.ok(msgs(logs, mark2).includes('removed 198.51.100.100/32 from lo'));
  t.equal(timers.pending, null, 'no recheck after stop');
});

t.test('the VIP removed from lo comes back', async (t) => {
  const { role, host, timers, logs } = rig(t);
  await role.start();
  await host.ensureAbsent(VIP, 'lo');
  const mark = logs.length;
  await timers.fireAndWait();
  t.match(logs.slice(mark).find((l) => l.level === WARN)?.msg, /198\.51\.100\.100\/32 is not on lo/);
  t.ok(host.has(VIP));
});

t.test('an unfixable drift is reported once, then quietly, until the host is safe again', async (t) => {
  const { role, host, timers, logs } = rig(t);
  await role.start();
  host.addrs.get('eth0')?.push(addr(VIP.address, 32));
  const mark = logs.length;
  await timers.fireAndWait();
  const first = logs.slice(mark).filter((l) => l.level >= WARN);
  t.equal(first.filter((l) => l.level === WARN).length, 1, 'one drift warning');
  t.match(first.find((l) => l.level === ERROR)?.msg, /also on eth0/, 'and the reason it cannot be fixed');
  const mark2 = logs.length;
  await timers.fireAndWait();
  t.same(logs.slice(mark2).filter((l) => l.level >= WARN), [], 'the same drift again: not repeated');
  await host.ensureAbsent(VIP, 'eth0');
  const mark3 = logs.length;
  await timers.fireAndWait();
  t.ok(msgs(logs, mark3).includes('real-server role: the host is safe again'));
});

t.test('stop waits for a recheck in flight before undoing', async (t) => {
  const { role, host, fs, timers, cfg } = rig(t);
  await role.start();
  fs.set('eth0/arp_ignore', 0);
  let release: () => void = () => undefined;
  host.hold = new Promise((resolve) => (release = resolve));
  const p = timers.pending;
  timers.pending = null;
  p?.fn(); // the recheck starts and blocks reading the host...
  let stopped = false;
  const stopping = role.stop().finally(() => (stopped = true)); // ...stop comes before it has finished...
  // Give a stop that did not wait every chance to undo first: file-system round trips (its
  // undo is file I/O too), bounded in count, no sleep; an undo removes the state file.
  for (let i = 0; i < 500 && !stopped && existsSync(cfg.stateFile); i++) await stat(cfg.stateFile).catch(() => null);
  t.equal(stopped, false, 'stop is still waiting for the recheck');
  t.ok(existsSync(cfg.stateFile), 'nothing undone yet');
  release(); // ...then the recheck finishes, and only then the undo runs
  const down = await stopping;
  t.same(down?.errors, []);
  t.equal(host.has(VIP), false);
  t.same([fs.get('all/arp_ignore'), fs.get('all/arp_announce'), fs.get('eth0/arp_ignore'), fs.get('eth0/arp_announce')], [0, 1, 0, 0], 'everything restored');
  t.equal(timers.pending, null, 'and nothing scheduled after');
});

t.test('undoOnStop false leaves the host a real server; stop twice is one stop', async (t) => {
  const { role, host, fs, logs } = rig(t, { undoOnStop: false });
  await role.start();
  const a = role.stop();
  t.equal(role.stop(), a, 'the same promise');
  t.equal(await a, null);
  t.ok(host.has(VIP));
  t.equal(fs.get('all/arp_ignore'), 1);
  t.ok(msgs(logs).some((m) => /undoOnStop is false/.test(m)));
});

t.test('recheck 0s: applied once, never rechecked', async (t) => {
  const { role, timers } = rig(t, { recheck: 0 });
  t.same((await role.start()).errors, []);
  t.equal(timers.pending, null);
});

t.test('a start that fails schedules nothing; stop undoes what it did', async (t) => {
  const { role, host, fs, timers } = rig(t);
  fs.denied.add(`${ROOT}/eth0/arp_ignore`);
  const r = await role.start();
  t.match(r.errors, [/EACCES/]);
  t.equal(host.has(VIP), false, 'no VIP while a sysctl is unsafe');
  t.equal(timers.pending, null);
  await role.stop();
  t.equal(fs.get('all/arp_ignore'), 0, 'the partial changes undone');
});
