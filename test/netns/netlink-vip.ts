/**
 * Harness for test/netns/netlink.test.ts, run from dist/ inside the test's namespace (a
 * netlink socket talks to the namespace of the process that opened it, and a namespace is
 * per process: the test itself stays in the root namespace). Prints one JSON line.
 *
 *   netlink-vip.js ensure --op add|del --vip 198.51.100.100/32 --iface eth0
 *       NetlinkVipHost with the real addon and a fallback that only records (it must stay
 *       unused); the outcome, how long the constructor (its warm-up) and the call took.
 *   netlink-vip.js time --vip 198.51.100.100/32 --iface eth0 --count 50
 *       add then del, count times; how long each add took (ns).
 *   netlink-vip.js addon
 *       the addon itself: kernel answers for an index no interface has, one socket kept
 *       (close-on-exec, NETLINK_ROUTE) however many calls, and arbitrary arguments never
 *       crash. Every call names that absent index or a bad one, so no address is ever added.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { errnoCode, loadNative, type Native } from '../../src/adapters/native.js';
import { NetlinkVipHost } from '../../src/adapters/netlink-host.js';
import type { Vip } from '../../src/config/types.js';
import type { EnsureOutcome, VipHost } from '../../src/ports/index.js';
import { runMode, type Modes } from './harness-main.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    op: { type: 'string', default: 'add' },
    vip: { type: 'string', default: '198.51.100.100/32' },
    iface: { type: 'string', default: 'eth0' },
    count: { type: 'string', default: '50' },
  },
});

/** An interface index no host has (the largest the addon accepts). */
const NOWHERE = 2 ** 31 - 1;

function native(): Native {
  const load = loadNative();
  if (!load.ok) throw new Error(load.reason);
  return load.native;
}

function vipOf(text: string): Vip {
  const [address = '', prefix = ''] = text.split('/');
  const family = isIPv4(address) ? 4 : 6;
  return { address, prefix: prefix === '' ? (family === 4 ? 32 : 128) : parseInt(prefix, 10), family };
}

/** Records what would have gone to `ip`; the test asserts it stayed empty. */
class RecordingFallback implements VipHost {
  readonly used: string[] = [];
  private record(what: string): Promise<EnsureOutcome> {
    this.used.push(what);
    return Promise.resolve({ ok: false, error: 'fallback used' });
  }
  ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    return this.record(`present ${vip.address} ${iface}`);
  }
  ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    return this.record(`absent ${vip.address} ${iface}`);
  }
}

function makeHost(): { host: NetlinkVipHost; fallback: RecordingFallback; reasons: string[] } {
  const fallback = new RecordingFallback();
  const reasons: string[] = [];
  return { host: new NetlinkVipHost({ native: native(), fallback, onFallback: (r) => reasons.push(r) }), fallback, reasons };
}

async function ensure(): Promise<object> {
  const c0 = process.hrtime.bigint();
  const { host, fallback, reasons } = makeHost();
  const constructNs = Number(process.hrtime.bigint() - c0);
  const vip = vipOf(values.vip);
  const t0 = process.hrtime.bigint();
  const pending = values.op === 'del' ? host.ensureAbsent(vip, values.iface) : host.ensurePresent(vip, values.iface);
  const ns = Number(process.hrtime.bigint() - t0);
  return { outcome: await pending, ns, constructNs, fallback: fallback.used, reasons };
}

async function time(): Promise<object> {
  const { host, fallback } = makeHost();
  const vip = vipOf(values.vip);
  const count = Math.min(Math.max(parseInt(values.count, 10) || 1, 1), 1000);
  const ns: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const added = host.ensurePresent(vip, values.iface);
    ns.push(Number(process.hrtime.bigint() - t0));
    const outcomes = [await added, await host.ensureAbsent(vip, values.iface)];
    for (const o of outcomes) if (!o.ok || !o.changed) failures.push(JSON.stringify(o));
  }
  return { ns, failures, fallback: fallback.used };
}

/** This process's open sockets (the listing's own directory descriptor is no socket). */
function sockets(): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // closed meanwhile (that directory descriptor)
    }
  });
}

/** What the addon's socket is: close-on-exec, and its protocol in this namespace's netlink table. */
function describeSocket(fd: string): object {
  const flags = parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
  const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
  // sk Eth(protocol) Pid(port id) Groups Rmem Wmem Dump Locks Drops Inode
  const row = readFileSync('/proc/net/netlink', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).find((c) => c[9] === inode);
  return { cloexec: (flags & 0o2000000) !== 0, protocol: row ? Number(row[1]) : null, groups: row ? row[3] : null };
}

function addon(): object {
  const n = native();
  const v4 = Buffer.from([198, 51, 100, 100]);
  const v6 = Buffer.from('20010db8000000000000000000000100', 'hex');
  const before = sockets();
  const answers = {
    add4: n.addrAdd(NOWHERE, 4, v4, 32, false),
    add6: n.addrAdd(NOWHERE, 6, v6, 128, true),
    del4: n.addrDel(NOWHERE, 4, v4, 32),
    del6: n.addrDel(NOWHERE, 6, v6, 128),
  };
  const opened = sockets().filter((fd) => !before.includes(fd));
  for (let i = 0; i < 500; i++) n.addrAdd(NOWHERE, 4, v4, 32, false);
  const after = sockets().filter((fd) => !before.includes(fd));
  // Arbitrary arguments, but never a usable interface index: nothing can be added.
  const index = fc.oneof(fc.constant(NOWHERE), fc.anything().filter((x) => !(typeof x === 'number' && Number.isInteger(x) && x >= 1 && x < NOWHERE)));
  const arg = fc.oneof(fc.anything(), fc.constantFrom(4, 6, 32, 128, true, false), fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u)));
  const unexpected: string[] = [];
  const fuzz = fc.check(
    fc.property(index, arg, arg, arg, arg, fc.boolean(), (i, a, b, c, d, isAdd) => {
      try {
        const r = isAdd ? (n.addrAdd as (...x: unknown[]) => unknown)(i, a, b, c, d) : (n.addrDel as (...x: unknown[]) => unknown)(i, a, b, c);
        if (r !== answers.add4) unexpected.push(`returned ${String(r)}`);
      } catch (e) {
        if (!(e instanceof TypeError)) unexpected.push(`threw ${errnoCode(e) ?? ''} ${(e as Error).message}`);
      }
    }),
    { numRuns: 2000 },
  );
  return { answers, opened: opened.length, openedAfter500: after.length, socket: opened[0] === undefined ? null : describeSocket(opened[0]), fuzzFailed: fuzz.failed, unexpected: unexpected.slice(0, 5) };
}

const modes: Modes = { ensure, time, addon };

runMode('netlink-vip', modes, positionals[0]);
