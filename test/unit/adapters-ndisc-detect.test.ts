/**
 * IPv6 conflict probes: the duplicate address solicitation's bytes (checked against a frame
 * Linux itself sent), the reading of neighbour advertisements, the ICMPv6 filter, and the
 * detector's decision (who counts as another host, errors, cleanup) against a fake packet
 * socket and a fake listener. The real sockets are drilled in test/netns/conflict6.test.ts.
 */
import t from 'tap';
import { macBytes, unsolicitedNa } from '../../src/adapters/ndisc.js';
import { DAD_FRAME_LENGTH, dadProbeFrame, icmp6Checksum, icmp6FilterPassOnly, parseNeighborAdvert, solicitedNode } from '../../src/adapters/ndisc-frame.js';
import { NdiscDetector, NO_PROBE_ADDON, openNaListener, RoutingDetector, type OpenNaListener, type ProbeNative, type RawListenModule } from '../../src/adapters/ndisc-detect.js';
import type { Vip } from '../../src/config/types.js';
import type { DetectOutcome } from '../../src/ports/index.js';

const hex = (b: Buffer) => b.toString('hex');
const VIP6: Vip = { address: '2001:db8::100', prefix: 64, family: 6 };
const OWN = '02:00:00:00:00:0a';
const ROGUE = '02:00:00:00:00:99';

t.test('solicitedNode: ff02::1:ff and the low 24 bits', async (t) => {
  t.equal(hex(solicitedNode('2001:db8::100')), 'ff0200000000000000000001ff000100');
  t.equal(hex(solicitedNode('fe80::eca2:e2ff:fe8f:ebb0')), 'ff0200000000000000000001ff8febb0');
});

t.test("icmp6Checksum gives the kernel's checksum for a solicitation Linux sent", async (t) => {
  // Captured with tcpdump -xx: Linux's own DAD probe for 2001:db8::100 (with its RFC 7527 nonce option).
  const msg = Buffer.from('87000000000000002001' + '0db8000000000000000000000100' + '0e019f4d6043cb60', 'hex');
  t.equal(icmp6Checksum(Buffer.alloc(16), solicitedNode('2001:db8::100'), msg).toString(16), '71f4');
});

t.test('dadProbeFrame: Ethernet to 33:33:ff.., IPv6 from :: hop limit 255, NS for the target, no option', async (t) => {
  const f = dadProbeFrame('2001:db8::100', macBytes(OWN));
  t.equal(f.length, DAD_FRAME_LENGTH);
  t.equal(
    hex(f),
    [
      '3333ff000100', // destination: the solicited-node group's MAC
      '02000000000a', // source: our interface
      '86dd', // IPv6
      '60000000', // version 6
      '0018', // payload: 24 bytes
      '3a', // next header ICMPv6
      'ff', // hop limit 255
      '0'.repeat(32), // source ::
      'ff0200000000000000000001ff000100', // solicited-node group
      '87', // type 135
      '00', // code
      hex(f.subarray(56, 58)), // checksum, verified below
      '00000000', // reserved
      '20010db8000000000000000000000100', // target
    ].join(''),
  );
  const msg = Buffer.from(f.subarray(54));
  msg.writeUInt16BE(0, 2);
  t.equal(f.readUInt16BE(56), icmp6Checksum(Buffer.alloc(16), solicitedNode('2001:db8::100'), msg), 'the checksum is over the pseudo-header');
  t.not(f.readUInt16BE(56), 0);
  t.throws(() => dadProbeFrame('2001:db8::100', Buffer.alloc(5)), /6 bytes/);
  t.throws(() => dadProbeFrame('198.51.100.100', macBytes(OWN)), /not an IPv6 address/);
});

t.test('parseNeighborAdvert', async (t) => {
  const na = parseNeighborAdvert(unsolicitedNa('2001:db8::100', macBytes(ROGUE)));
  t.equal(hex(na!.target), '20010db8000000000000000000000100');
  t.equal(na!.mac, ROGUE, 'the target link-layer address');
  const bare = unsolicitedNa('2001:db8::100', macBytes(ROGUE)).subarray(0, 24);
  t.same(parseNeighborAdvert(bare)?.mac, null, 'no option: no MAC');
  const withSource = Buffer.concat([bare, Buffer.from('0101' + '020000000077', 'hex'), Buffer.from('0201' + '020000000099', 'hex')]);
  t.equal(parseNeighborAdvert(withSource)?.mac, ROGUE, 'a source link-layer option first is skipped');
  const ns = Buffer.from(bare);
  ns[0] = 135;
  t.equal(parseNeighborAdvert(ns), null, 'a solicitation is not an advertisement');
  const code = Buffer.from(bare);
  code[1] = 1;
  t.equal(parseNeighborAdvert(code), null, 'code must be 0');
  t.equal(parseNeighborAdvert(bare.subarray(0, 23)), null, 'too short');
  t.equal(parseNeighborAdvert(Buffer.concat([bare, Buffer.from('0200', 'hex')])), null, 'an option of length 0');
  t.equal(parseNeighborAdvert(Buffer.concat([bare, Buffer.from('020202', 'hex')])), null, 'an option running past the end');
});

t.test('icmp6FilterPassOnly: every type blocked but the one', async (t) => {
  const f = icmp6FilterPassOnly(136);
  t.equal(f.length, 32);
  const words = new Uint32Array(f.buffer, f.byteOffset, 8);
  const blocked = (type: number) => (words[type >>> 5]! & (1 << (type & 31))) !== 0;
  t.notOk(blocked(136), 'neighbour advertisements pass');
  t.ok([0, 1, 128, 129, 133, 134, 135, 137, 143, 255].every(blocked), 'everything else is blocked');
});

interface FakeNative extends ProbeNative {
  sent: Buffer[];
  closed: number[];
}

function fakeNative(fail: { open?: string; send?: string } = {}): FakeNative {
  const n: FakeNative = {
    sent: [],
    closed: [],
    packetOpen: (ifname) => {
      if (fail.open) throw Object.assign(new Error(`${fail.open} (${ifname})`), { code: fail.open });
      return { fd: 7, ifindex: 3, mac: macBytes(OWN) };
    },
    packetSend: (_fd, _ifindex, frame) => {
      if (fail.send) throw new Error(fail.send);
      n.sent.push(frame);
      return frame.length;
    },
    packetClose: (fd) => void n.closed.push(fd),
  };
  return n;
}

/** A listener whose "segment" answers each probe with `answers` during the wait. */
function rig(answers: [Buffer, string][], native: ProbeNative | null = fakeNative()) {
  const state = { opened: [] as string[], closed: 0, deliver: (_m: Buffer, _s: string) => undefined as void, late: 0 };
  const openListener: OpenNaListener = (iface, onMessage) => {
    state.opened.push(iface);
    let open = true;
    state.deliver = (m, s) => (open ? onMessage(m, s) : void state.late++);
    return { close: () => void ((open = false), state.closed++) };
  };
  const sleep = async () => {
    for (const [m, s] of answers) state.deliver(m, s);
  };
  const d = new NdiscDetector({ native, wait: 1000, openListener, sleep });
  return { d, state };
}

t.test('NdiscDetector: another MAC answering for the VIP is a conflict; our own MAC and other targets are not', async (t) => {
  const native = fakeNative();
  const { d, state } = rig(
    [
      [unsolicitedNa(VIP6.address, macBytes(OWN)), VIP6.address], // our own announcement, looped back
      [unsolicitedNa('2001:db8::200', macBytes('02:00:00:00:00:55')), '2001:db8::200'], // another address
      [unsolicitedNa(VIP6.address, macBytes(ROGUE)), VIP6.address],
      [unsolicitedNa(VIP6.address, macBytes(ROGUE)), VIP6.address], // the same host twice: once
      [Buffer.from('8000000000000000', 'hex'), 'fe80::1'], // not an NA
    ],
    native,
  );
  const out = await d.detect(VIP6, 'eth0');
  t.same(out, { macs: [ROGUE] });
  t.same(state.opened, ['eth0'], 'listened on the VIP interface');
  t.equal(native.sent.length, 1, 'one solicitation');
  t.equal(hex(native.sent[0]!), hex(dadProbeFrame(VIP6.address, macBytes(OWN))), 'the DAD frame from our MAC');
  t.equal(state.closed, 1, 'listener closed');
  t.same(native.closed, [7], 'packet socket closed');
});

t.test('NdiscDetector: silence is no conflict; an NA without a MAC is named by its source', async (t) => {
  t.same(await rig([]).d.detect(VIP6, 'eth0'), { macs: [] }, 'nobody answered');
  const bare = unsolicitedNa(VIP6.address, macBytes(ROGUE)).subarray(0, 24);
  t.same(await rig([[bare, 'fe80::99']]).d.detect(VIP6, 'eth0'), { macs: ['unknown MAC (advertised from fe80::99)'] });
});

t.test('NdiscDetector: errors are results, and everything opened is closed', async (t) => {
  const noAddon = await rig([], null).d.detect(VIP6, 'eth0');
  t.same(noAddon, { macs: [], error: NO_PROBE_ADDON });
  const openFail = await rig([], fakeNative({ open: 'ENODEV' })).d.detect(VIP6, 'eth9');
  t.match(openFail, { macs: [], error: /IPv6 duplicate address probe of 2001:db8::100 on eth9: ENODEV/ });
  const native = fakeNative({ send: 'sendto: ENETDOWN' });
  const { d, state } = rig([[unsolicitedNa(VIP6.address, macBytes(ROGUE)), VIP6.address]], native);
  t.match(await d.detect(VIP6, 'eth0'), { macs: [], error: /ENETDOWN/ }, 'a failed send says nothing about the segment');
  t.equal(state.closed, 1, 'listener closed after the failed send');
  t.same(native.closed, [7], 'packet socket closed after the failed send');
  const listenFail = fakeNative();
  const d2 = new NdiscDetector({ native: listenFail, wait: 1000, openListener: () => { throw new Error('EPERM'); } });
  t.match(await d2.detect(VIP6, 'eth0'), { macs: [], error: /EPERM/ });
  t.same(listenFail.closed, [7], 'packet socket closed when the listener could not open');
  t.equal(listenFail.sent.length, 0, 'nothing sent without a listener');
  t.match(await rig([]).d.detect({ address: '198.51.100.100', prefix: 24, family: 4 }, 'eth0'), { error: /IPv6 only/ });
});

t.test('NdiscDetector: the first answer from another host ends the wait; our own does not', async (t) => {
  const seen: string[] = [];
  let deliver: (m: Buffer, s: string) => void = () => undefined;
  const d = new NdiscDetector({
    native: fakeNative(),
    wait: 1000,
    openListener: (_iface, fn) => ((deliver = fn), { close: () => undefined }),
    sleep: async (ms, signal) => {
      seen.push(`wait ${ms}`);
      deliver(unsolicitedNa(VIP6.address, macBytes(OWN)), VIP6.address);
      seen.push(`own: ${signal.aborted ? 'ended' : 'waiting'}`);
      deliver(unsolicitedNa('2001:db8::200', macBytes(ROGUE)), '2001:db8::200');
      seen.push(`other target: ${signal.aborted ? 'ended' : 'waiting'}`);
      deliver(unsolicitedNa(VIP6.address, macBytes(ROGUE)), VIP6.address);
      seen.push(`rogue: ${signal.aborted ? 'ended' : 'waiting'}`);
    },
  });
  t.same(await d.detect(VIP6, 'eth0'), { macs: [ROGUE] });
  t.same(seen, ['wait 1000', 'own: waiting', 'other target: waiting', 'rogue: ended']);
});

t.test('NdiscDetector: the real wait ends at the deadline, or at once on an answer', async (t) => {
  let deliver: (m: Buffer, s: string) => void = () => undefined;
  const opts = { native: fakeNative(), wait: 300, openListener: ((_i, fn) => ((deliver = fn), { close: () => undefined })) as OpenNaListener };
  let at = performance.now();
  t.same(await new NdiscDetector(opts).detect(VIP6, 'eth0'), { macs: [] });
  const silent = performance.now() - at;
  t.ok(silent >= 290, `silence: waited the whole ${opts.wait} ms (${silent.toFixed(0)} ms)`);
  at = performance.now();
  const d = new NdiscDetector({ ...opts, wait: 60_000 });
  const p = d.detect(VIP6, 'eth0');
  setTimeout(() => deliver(unsolicitedNa(VIP6.address, macBytes(ROGUE)), VIP6.address), 20);
  t.same(await p, { macs: [ROGUE] });
  t.ok(performance.now() - at < 30_000, `an answer ends a 60 s wait (${(performance.now() - at).toFixed(0)} ms)`);
});

t.test('NdiscDetector: what arrives after the wait is not counted', async (t) => {
  const { d, state } = rig([]);
  t.same(await d.detect(VIP6, 'eth0'), { macs: [] });
  state.deliver(unsolicitedNa(VIP6.address, macBytes(ROGUE)), VIP6.address);
  t.equal(state.late, 1, 'delivered to a closed listener: dropped');
});

t.test('openNaListener: NA-only filter, bound to the interface, messages until closed', async (t) => {
  const options: [number, number, string][] = [];
  let onMsg: (m: Buffer, s: string) => void = () => undefined;
  let closes = 0;
  let failOn: number | null = null;
  const raw: RawListenModule = {
    AddressFamily: { IPv6: 2 },
    Protocol: { ICMPv6: 58 },
    createSocket: (o) => {
      t.same(o, { addressFamily: 2, protocol: 58 });
      return {
        setOption: (level: number, option: number, value: Buffer, length: number) => {
          if (option === failOn) throw new Error('EPERM');
          options.push([level, option, hex(value.subarray(0, length))]);
        },
        on: (event: string, fn: (...a: never[]) => void) => {
          if (event === 'message') onMsg = fn as (m: Buffer, s: string) => void;
        },
        close: () => void closes++,
      };
    },
  };
  const got: string[] = [];
  const l = openNaListener('eth0', (_m, s) => void got.push(s), raw);
  t.same(options, [
    [58, 1, hex(icmp6FilterPassOnly(136))],
    [1, 25, hex(Buffer.from('eth0\0'))],
  ]);
  onMsg(Buffer.alloc(24), 'fe80::1');
  l.close();
  l.close();
  onMsg(Buffer.alloc(24), 'fe80::2');
  t.same(got, ['fe80::1'], 'nothing after close');
  t.equal(closes, 1, 'closed once');
  failOn = 25;
  t.throws(() => openNaListener('eth0', () => undefined, raw), /EPERM/);
  t.equal(closes, 2, 'a setup failure closes the socket');
});

t.test('RoutingDetector: each family to its detector', async (t) => {
  const seen: string[] = [];
  const fake = (name: string) => ({ detect: async (v: Vip): Promise<DetectOutcome> => (seen.push(`${name} ${v.address}`), { macs: [] }) });
  const r = new RoutingDetector(fake('arp'), fake('nd'));
  await r.detect({ address: '198.51.100.100', prefix: 24, family: 4 }, 'eth0');
  await r.detect(VIP6, 'eth0');
  t.same(seen, ['arp 198.51.100.100', 'nd 2001:db8::100']);
});
