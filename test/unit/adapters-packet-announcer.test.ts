// PacketAnnouncer with a fake addon, a fake fallback and a hand-released sleep: the first
// step leaves inside the call, every frame is preceded by an abort check, failures hand the
// rest of the burst to the fallback, a re-created interface gets one fresh socket.
import t from 'tap';
import { garpFrame } from '../../src/adapters/arp-frame.js';
import type { PacketSocket } from '../../src/adapters/native.js';
import { NO_NATIVE_ADDON, PacketAnnouncer, type PacketNative } from '../../src/adapters/packet-announcer.js';
import type { GarpConfig, Vip } from '../../src/config/types.js';
import type { AnnounceOutcome, Announcer } from '../../src/ports/index.js';

const VIP: Vip = { address: '198.51.100.100', prefix: 32, family: 4 };
/** Each fake socket has a MAC of its own (its fd in the last byte), so frames show which socket built them. */
const macOf = (fd: number) => Buffer.from([2, 0, 0, 0, 0, fd]);
const garp = (form: GarpConfig['form'], count: number, spacing = 100): GarpConfig => ({ form, count, spacing, refresh: 0 });

function errno(code: string, call: string): Error {
  return Object.assign(new Error(`${call}: ${code}`), { code });
}

/** Records opens, sends (by ARP opcode) and closes in one timeline; failures are queued by the test. */
class FakeNative implements PacketNative {
  log: string[] = [];
  frames: Buffer[] = [];
  openErrors: string[] = [];
  sendErrors: (string | null)[] = [];
  afterSend: () => void = () => undefined;
  private nextFd = 10;
  private nextIndex = 2;

  packetOpen(ifname: string): PacketSocket {
    const code = this.openErrors.shift();
    if (code) {
      this.log.push(`open ${ifname} ${code}`);
      throw errno(code, 'socket(AF_PACKET, SOCK_RAW)');
    }
    const fd = this.nextFd++;
    const sock = { fd, ifindex: this.nextIndex++, mac: macOf(fd) };
    this.log.push(`open ${ifname} fd${sock.fd} if${sock.ifindex}`);
    return sock;
  }
  packetSend(fd: number, ifindex: number, frame: Buffer): number {
    const op = frame.readUInt16BE(20) === 1 ? 'request' : 'reply';
    const code = this.sendErrors.shift() ?? null;
    this.log.push(`send fd${fd} if${ifindex} ${op}${code ? ` ${code}` : ''}`);
    if (code) throw errno(code, 'sendto(AF_PACKET)');
    this.frames.push(frame);
    this.afterSend();
    return frame.length;
  }
  packetClose(fd: number): void {
    this.log.push(`close fd${fd}`);
  }
}

class FakeFallback implements Announcer {
  constructor(private readonly log: string[]) {}
  closed = 0;
  async announce(_vip: Vip, iface: string, g: GarpConfig, signal?: AbortSignal): Promise<AnnounceOutcome> {
    this.log.push(`fallback ${iface} ${g.form} x${g.count}${signal?.aborted ? ' aborted' : ''}`);
    return { sent: g.count * (g.form === 'both' ? 2 : 1), errors: [] };
  }
  close(): void {
    this.closed++;
  }
}

/** The sleep of the announcer: each call waits until the test releases it. */
function setup(opts: { native?: FakeNative | null } = {}) {
  const native = opts.native === undefined ? new FakeNative() : opts.native;
  const log = native?.log ?? [];
  const fallback = new FakeFallback(log);
  const reasons: string[] = [];
  const sleeps: (() => void)[] = [];
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      log.push(`sleep ${ms}`);
      sleeps.push(resolve);
    });
  const announcer = new PacketAnnouncer({ native, fallback, sleep, onFallback: (r) => reasons.push(r) });
  const flush = () => new Promise((r) => setImmediate(r));
  /** lets the burst reach its next sleep, past it, and on to the one after (or its end). */
  const release = async () => {
    await flush();
    sleeps.shift()?.();
    await flush();
  };
  return { native, log, fallback, reasons, announcer, release };
}

t.test('the first step is on the wire when announce() returns; the next waits for the sleep', async (t) => {
  const { native, log, announcer, release } = setup();
  const done = announcer.announce(VIP, 'eth0', garp('both', 3, 200));
  t.same(log, ['open eth0 fd10 if2', 'send fd10 if2 request', 'send fd10 if2 reply', 'sleep 200'], 'request then reply, synchronously');
  await release();
  t.same(log.slice(4), ['send fd10 if2 request', 'send fd10 if2 reply', 'sleep 200'], 'second step after the first sleep');
  await release();
  t.same(await done, { sent: 6, errors: [] });
  t.equal(log.filter((l) => l.startsWith('open')).length, 1, 'one socket per interface, kept');
  t.same(native!.frames[0], garpFrame('request', macOf(10), VIP.address), 'arping -U bytes from the socket MAC');
  t.same(native!.frames[1], garpFrame('reply', macOf(10), VIP.address), 'arping -A bytes');

  await announcer.announce(VIP, 'eth0', garp('reply', 1));
  t.equal(log.filter((l) => l.startsWith('open')).length, 1, 'the next burst reuses it');
});

t.test('an abort between the request and the reply of one step stops the reply', async (t) => {
  const { native, log, announcer } = setup();
  const ctl = new AbortController();
  native!.afterSend = () => ctl.abort();
  t.same(await announcer.announce(VIP, 'eth0', garp('both', 3), ctl.signal), { sent: 1, errors: [] });
  t.same(log, ['open eth0 fd10 if2', 'send fd10 if2 request'], 'no reply, no sleep, no further step');
});

t.test('an abort during the sleep ends the burst before the next frame', async (t) => {
  const { log, announcer, release } = setup();
  const ctl = new AbortController();
  const done = announcer.announce(VIP, 'eth0', garp('request', 3), ctl.signal);
  ctl.abort();
  await release();
  t.same(await done, { sent: 1, errors: [] });
  t.same(log, ['open eth0 fd10 if2', 'send fd10 if2 request', 'sleep 100']);
});

t.test('an already aborted signal sends nothing', async (t) => {
  const { log, announcer } = setup();
  t.same(await announcer.announce(VIP, 'eth0', garp('both', 2), AbortSignal.abort()), { sent: 0, errors: [] });
  t.same(log, []);
});

t.test('EPERM at open: the fallback sends the whole burst, and every later burst at once', async (t) => {
  const { native, log, reasons, announcer } = setup();
  native!.openErrors = ['EPERM'];
  const first = await announcer.announce(VIP, 'eth0', garp('both', 3));
  t.equal(first.sent, 6, 'what the fallback reports counts');
  t.match(first.errors, [/packet socket on eth0: .*EPERM.*the fallback sends the rest/], 'the failure is reported once');
  t.same(log, ['open eth0 EPERM', 'fallback eth0 both x3']);
  t.match(reasons, [/EPERM/]);

  const second = await announcer.announce(VIP, 'eth1', garp('request', 2));
  t.same(second, { sent: 2, errors: [] }, 'no new error for a known condition');
  t.same(log.slice(2), ['fallback eth1 request x2'], 'no second open attempt');
  t.equal(reasons.length, 2, 'onFallback told each time');
});

t.test('ENODEV at open is not sticky: the next burst tries again', async (t) => {
  const { native, log, announcer } = setup();
  native!.openErrors = ['ENODEV'];
  t.equal((await announcer.announce(VIP, 'eth9', garp('request', 1))).errors.length, 1);
  t.same(await announcer.announce(VIP, 'eth9', garp('request', 1)), { sent: 1, errors: [] });
  t.same(log, ['open eth9 ENODEV', 'fallback eth9 request x1', 'open eth9 fd10 if2', 'send fd10 if2 request']);
});

t.test('ENODEV at send (interface re-created): one fresh socket with the new ifindex', async (t) => {
  const { native, log, announcer, release } = setup();
  const done = announcer.announce(VIP, 'eth0', garp('request', 2));
  native!.sendErrors = ['ENODEV'];
  await release();
  t.same(await done, { sent: 2, errors: [] });
  t.same(log, ['open eth0 fd10 if2', 'send fd10 if2 request', 'sleep 100', 'send fd10 if2 request ENODEV', 'close fd10', 'open eth0 fd11 if3', 'send fd11 if3 request']);
  t.same(native!.frames.map((f) => f.subarray(6, 12)), [macOf(10), macOf(11)], "each frame carries its own socket's MAC (no stale cached frame)");
});

t.test('a reopened socket that fails again hands over to the fallback', async (t) => {
  const { native, log, reasons, announcer } = setup();
  native!.sendErrors = ['ENXIO', 'ENETDOWN'];
  const out = await announcer.announce(VIP, 'eth0', garp('request', 2));
  t.equal(out.sent, 2);
  t.match(out.errors, [/ENXIO.*after reopening: .*ENETDOWN/]);
  t.same(log, ['open eth0 fd10 if2', 'send fd10 if2 request ENXIO', 'close fd10', 'open eth0 fd11 if3', 'send fd11 if3 request ENETDOWN', 'close fd11', 'fallback eth0 request x2']);
  t.equal(reasons.length, 1);
});

t.test('EAGAIN on the reply of a step: the fallback sends that reply, then the remaining steps', async (t) => {
  const { native, log, announcer, release } = setup();
  native!.sendErrors = [null, 'EAGAIN'];
  const done = announcer.announce(VIP, 'eth0', garp('both', 3, 50));
  await release();
  const out = await done;
  t.same(log, ['open eth0 fd10 if2', 'send fd10 if2 request', 'send fd10 if2 reply EAGAIN', 'fallback eth0 reply x1', 'sleep 50', 'fallback eth0 both x2']);
  t.equal(out.sent, 1 + 1 + 4, 'one raw frame plus what the fallback sent');
  t.equal(out.errors.length, 1);
  t.notOk(log.includes('close fd10'), 'a full queue keeps the socket');
});

t.test('close() during a burst: no further frame, sockets closed, fallback closed', async (t) => {
  const { log, fallback, announcer, release } = setup();
  const done = announcer.announce(VIP, 'eth0', garp('both', 3));
  announcer.close();
  await release();
  t.same(await done, { sent: 2, errors: [] });
  t.same(log, ['open eth0 fd10 if2', 'send fd10 if2 request', 'send fd10 if2 reply', 'sleep 100', 'close fd10']);
  t.equal(fallback.closed, 1);
  t.same(await announcer.announce(VIP, 'eth0', garp('request', 1)), { sent: 0, errors: [] }, 'nothing after close');
});

t.test('without the addon every burst goes to the fallback, told but not an error', async (t) => {
  const { log, reasons, announcer } = setup({ native: null });
  t.same(await announcer.announce(VIP, 'eth0', garp('both', 2)), { sent: 4, errors: [] });
  t.same(log, ['fallback eth0 both x2']);
  t.same(reasons, [NO_NATIVE_ADDON]);
});

t.test('prepare() opens the socket ahead, the burst reuses it; it reports what stands in the way', async (t) => {
  const { native, log, announcer } = setup();
  t.equal(announcer.prepare('eth0', [VIP.address, '198.51.100.101']), null, 'ready');
  t.same(log, ['open eth0 fd10 if2']);
  t.equal(announcer.prepare('eth0'), null, 'idempotent');
  await announcer.announce(VIP, 'eth0', garp('both', 1));
  t.same(log, ['open eth0 fd10 if2', 'send fd10 if2 request', 'send fd10 if2 reply'], 'no second open');
  t.same(native!.frames, [garpFrame('request', macOf(10), VIP.address), garpFrame('reply', macOf(10), VIP.address)], 'the prepared frames');
  t.match(announcer.prepare('eth0', ['2001:db8::1']), /prepare eth0: not an IPv4 address/, 'a bad address is reported, not thrown');

  native!.openErrors = ['ENODEV'];
  t.match(announcer.prepare('eth7'), /packet socket on eth7: .*ENODEV/);
  native!.openErrors = ['EPERM'];
  t.match(announcer.prepare('eth8'), /EPERM/);
  t.match(announcer.prepare('eth9'), /EPERM/, 'a permission failure sticks: no further open');
  t.equal(log.filter((l) => l.startsWith('open')).length, 3);
  announcer.close();
  t.match(announcer.prepare('eth0'), /closed/);
  t.equal(setup({ native: null }).announcer.prepare('eth0'), NO_NATIVE_ADDON);
});

t.test('IPv6 VIPs are not announced here; count 0 sends nothing', async (t) => {
  const { log, announcer } = setup();
  const v6 = await announcer.announce({ address: '2001:db8::100', prefix: 128, family: 6 }, 'eth0', garp('both', 2));
  t.equal(v6.sent, 0);
  t.match(v6.errors, [/IPv6/]);
  t.same(await announcer.announce(VIP, 'eth0', garp('both', 0)), { sent: 0, errors: [] });
  t.same(log, [], 'no socket opened');
});
