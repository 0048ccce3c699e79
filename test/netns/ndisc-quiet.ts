/**
 * Harness for test/netns/ndisc-quiet.test.ts, run from dist/ inside the test's namespace (a
 * raw socket sees the ICMPv6 of the namespace of the process that opened it). Prints one
 * JSON line.
 *
 *   ndisc-quiet.js run --iface eth0 --vip 2001:db8::100 --ping ::1,ff02::1%eth0 --count 50
 *       The real NdiscAnnouncer with the real raw-socket sends one burst of 3 NAs; then ICMPv6
 *       traffic is made in the namespace (ping, each echo and reply a copy for every raw
 *       ICMPv6 socket that lets them in) and the socket's receive side is read three ways:
 *       - recvReady: how often the addon's read watcher fired (raw-socket's onRecvReady,
 *         wrapped here before the announcer loads the module: the same module instance);
 *       - the kernel's view, /proc/net/raw6's row of the socket: rx_queue (bytes queued
 *         and never read) and drops;
 *       - the socket's own settings: recvPaused, the ICMP6_FILTER read back (getsockopt).
 *       Icmp6InMsgs of /proc/net/snmp6 before and after says the traffic was there.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { socketInodes } from './proc-sockets.js';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { IPPROTO_ICMPV6, ICMP6_FILTER, NdiscAnnouncer } from '../../src/adapters/ndisc.js';
import { runMode } from './harness-main.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    iface: { type: 'string', default: 'eth0' },
    vip: { type: 'string', default: '2001:db8::100' },
    ping: { type: 'string', default: '::1' },
    count: { type: 'string', default: '50' },
  },
});

interface RawSock {
  recvPaused: boolean;
  getOption(level: number, option: number, buf: Buffer, length: number): number;
}
interface RawModule {
  Socket: { prototype: { onRecvReady(this: unknown, ...a: unknown[]): unknown } };
  createSocket(o: object): RawSock;
}

const raw = createRequire(import.meta.url)('raw-socket') as RawModule;
let recvReady = 0;
const onRecvReady = raw.Socket.prototype.onRecvReady;
raw.Socket.prototype.onRecvReady = function (this: unknown, ...a: unknown[]) {
  recvReady++;
  return onRecvReady.apply(this, a);
};
const sockets: RawSock[] = [];
const createSocket = raw.createSocket.bind(raw);
raw.createSocket = (o) => {
  const s = createSocket(o);
  sockets.push(s);
  return s;
};

function icmp6InMsgs(): number {
  const line = readFileSync('/proc/net/snmp6', 'utf8').split('\n').find((l) => l.startsWith('Icmp6InMsgs'));
  return Number(line?.trim().split(/\s+/)[1] ?? NaN);
}

/** The /proc/net/raw6 rows of this process's sockets: protocol, rx_queue bytes, drops. */
function ownRaw6(): { protocol: number; rxQueue: number; drops: number }[] {
  const inodes = socketInodes();
  return readFileSync('/proc/net/raw6', 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => inodes.has(c[9]!))
    .map((c) => ({ protocol: parseInt(c[1]!.split(':')[1]!, 16), rxQueue: parseInt(c[4]!.split(':')[1]!, 16), drops: Number(c[c.length - 1]) }));
}

const modes = {
  run: async () => {
    const iface = values.iface;
    const announcer = new NdiscAnnouncer();
    const outcome = await announcer.announce({ address: values.vip, prefix: 128, family: 6 }, iface, { count: 3, spacing: 20, form: 'both', refresh: 0 });
    const afterAnnounce = recvReady;
    const before = icmp6InMsgs();
    const pings: string[] = [];
    for (const target of values.ping.split(',')) {
      // -i 0.01: root may; -W 1 bounds each reply's wait, -w 10 the whole run.
      const out = execFileSync('ping', ['-6', '-n', '-q', '-c', values.count, '-i', '0.01', '-W', '1', '-w', '10', target], { encoding: 'utf8', timeout: 15_000 });
      pings.push(`${target}: ${/\d+ packets transmitted, \d+ received/.exec(out)?.[0] ?? out.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200)); // let the loop turn: a watcher that is on fires now
    const icmpIn = icmp6InMsgs() - before;
    const sock = sockets[0];
    const filter = Buffer.alloc(32);
    const filterLen = sock?.getOption(IPPROTO_ICMPV6, ICMP6_FILTER, filter, filter.length) ?? 0;
    const result = {
      outcome,
      sockets: sockets.length,
      recvReadyDuringAnnounce: afterAnnounce,
      recvReady,
      recvPaused: sock?.recvPaused ?? null,
      filter: filter.subarray(0, filterLen).toString('hex'),
      raw6: ownRaw6(),
      icmpIn,
      pings,
    };
    announcer.close();
    return result;
  },
};

runMode('ndisc-quiet', modes, positionals[0]);
