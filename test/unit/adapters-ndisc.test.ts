/**
 * IPv6 takeover announcements: address and MAC parsing, the exact bytes of an unsolicited
 * neighbour advertisement, and the announcer's burst (count, spacing, abort, errors) against
 * a fake raw socket; the raw socket's setup (receive nothing) against a fake raw-socket module.
 * The real socket is drilled in test/netns/ipv6-vip.test.ts and test/netns/ndisc-quiet.test.ts.
 */
import t from 'tap';
import { ICMP6_BLOCK_ALL, ipv6Bytes, macBytes, NdiscAnnouncer, openIcmp6Socket, RoutingAnnouncer, unsolicitedNa, type Icmp6Socket, type RawSocketModule } from '../../src/adapters/ndisc.js';
import type { GarpConfig, Vip } from '../../src/config/types.js';
import type { AnnounceOutcome, Announcer } from '../../src/ports/index.js';

const hex = (b: Buffer) => b.toString('hex');

t.test('ipv6Bytes expands every textual form', async (t) => {
  t.equal(hex(ipv6Bytes('2001:db8::100')), '20010db8000000000000000000000100');
  t.equal(hex(ipv6Bytes('::')), '0'.repeat(32));
  t.equal(hex(ipv6Bytes('::1')), '0'.repeat(31) + '1');
  t.equal(hex(ipv6Bytes('fe80::1:2:3:4')), 'fe800000000000000001000200030004');
  t.equal(hex(ipv6Bytes('2001:db8:0:0:0:0:0:1')), '20010db8000000000000000000000001');
  t.equal(hex(ipv6Bytes('2001:DB8::A')), '20010db800000000000000000000000a', 'upper case');
  t.equal(hex(ipv6Bytes('2001:db8::')), '20010db8' + '0'.repeat(24), 'trailing ::');
  t.equal(hex(ipv6Bytes('::ffff:198.51.100.7')), '00000000000000000000ffffc6336407', 'IPv4 tail');
  t.equal(hex(ipv6Bytes('2001:db8:1:2:3:4:198.51.100.7')), '20010db80001000200030004c6336407', 'IPv4 tail without ::');
  for (const bad of ['198.51.100.7', '2001:db8::1::2', 'g::1', '', '1:2:3:4:5:6:7:8:9']) t.throws(() => ipv6Bytes(bad), `refuses ${JSON.stringify(bad)}`);
});

t.test('macBytes', async (t) => {
  t.equal(hex(macBytes('72:a5:07:a9:31:37\n')), '72a507a93137');
  for (const bad of ['72:a5:07:a9:31', 'zz:a5:07:a9:31:37', '72-a5-07-a9-31-37']) t.throws(() => macBytes(bad));
});

t.test('unsolicitedNa: type 136, Override only, target, target link-layer address option', async (t) => {
  const msg = unsolicitedNa('2001:db8::100', macBytes('72:a5:07:a9:31:37'));
  t.equal(msg.length, 32);
  t.equal(
    hex(msg),
    [
      '88', // type 136
      '00', // code
      '0000', // checksum: the kernel's
      '20000000', // R=0 S=0 O=1, reserved
      '20010db8000000000000000000000100', // target
      '02', // option: target link-layer address
      '01', // length 1 (8 bytes)
      '72a507a93137',
    ].join(''),
  );
  t.throws(() => unsolicitedNa('2001:db8::100', Buffer.alloc(5)));
});

const VIP6: Vip = { address: '2001:db8::100', prefix: 64, family: 6 };
const garp = (count: number, spacing = 20): GarpConfig => ({ count, spacing, form: 'both', refresh: 0 });

function setup(opts: { failSend?: (n: number) => boolean; macError?: boolean } = {}) {
  const sent: { msg: string; to: string }[] = [];
  const sleeps: number[] = [];
  let opened = 0;
  let closed = 0;
  const socket: Icmp6Socket = {
    send: async (msg, to) => {
      if (opts.failSend?.(sent.length)) {
        sent.push({ msg: 'FAILED', to });
        throw new Error('sendto: Network is unreachable');
      }
      sent.push({ msg: hex(msg), to });
    },
    close: () => void closed++,
  };
  const announcer = new NdiscAnnouncer({
    openSocket: () => (opened++, socket),
    macOf: (iface) => {
      if (opts.macError) throw new Error(`ENOENT: /sys/class/net/${iface}/address`);
      return macBytes('02:00:00:00:00:0a');
    },
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { announcer, sent, sleeps, opened: () => opened, closed: () => closed };
}

t.test('a burst: count NAs to ff02::1 on the interface, spaced', async (t) => {
  const h = setup();
  t.same(await h.announcer.announce(VIP6, 'eth0', garp(3)), { sent: 3, errors: [] });
  t.same(h.sent.map((s) => s.to), ['ff02::1%eth0', 'ff02::1%eth0', 'ff02::1%eth0']);
  t.equal(h.sent[0]!.msg, hex(unsolicitedNa('2001:db8::100', macBytes('02:00:00:00:00:0a'))));
  t.same(h.sleeps, [20, 20]);
  await h.announcer.announce(VIP6, 'eth0', garp(1));
  t.equal(h.opened(), 1, 'one socket for every burst');
  h.announcer.close();
  t.equal(h.closed(), 1);
  t.same(await h.announcer.announce(VIP6, 'eth0', garp(2)), { sent: 0, errors: [] }, 'nothing after close');
});

t.test('an abort ends the burst before its next step', async (t) => {
  const h = setup();
  const ctl = new AbortController();
  const a = new NdiscAnnouncer({
    openSocket: () => ({ send: async () => ctl.abort(), close: () => undefined }),
    macOf: () => macBytes('02:00:00:00:00:0a'),
    sleep: async () => undefined,
  });
  t.same(await a.announce(VIP6, 'eth0', garp(5), ctl.signal), { sent: 1, errors: [] });
  t.same(await h.announcer.announce(VIP6, 'eth0', garp(5), AbortSignal.abort()), { sent: 0, errors: [] }, 'aborted before the first');
});

t.test('failures are reported per frame, never thrown', async (t) => {
  const h = setup({ failSend: (n) => n === 1 });
  const out = await h.announcer.announce(VIP6, 'eth0', garp(3));
  t.equal(out.sent, 2);
  t.match(out.errors, [/neighbour advertisement for 2001:db8::100 on eth0: sendto: Network is unreachable/]);
  const m = setup({ macError: true });
  t.match(await m.announcer.announce(VIP6, 'nosuch0', garp(3)), { sent: 0, errors: [/ENOENT/] });
  t.match(await m.announcer.announce({ address: '198.51.100.100', prefix: 32, family: 4 }, 'eth0', garp(1)), { sent: 0, errors: [/not IPv6/] });
  const broken = new NdiscAnnouncer({
    openSocket: () => {
      throw new Error('socket: Operation not permitted');
    },
    macOf: () => macBytes('02:00:00:00:00:0a'),
  });
  t.match(await broken.announce(VIP6, 'eth0', garp(2)), { sent: 0, errors: [/Operation not permitted/] }, 'no CAP_NET_RAW: reported');
});

t.test('RoutingAnnouncer sends each family to its own announcer', async (t) => {
  const seen: string[] = [];
  const fake = (name: string): Announcer => ({
    announce: async (vip): Promise<AnnounceOutcome> => {
      seen.push(`${name} ${vip.address}`);
      return { sent: 1, errors: [] };
    },
    close: () => void seen.push(`${name} closed`),
  });
  const r = new RoutingAnnouncer(fake('arp'), fake('nd'));
  await r.announce({ address: '198.51.100.100', prefix: 32, family: 4 }, 'eth0', garp(1));
  await r.announce(VIP6, 'eth0', garp(1));
  r.close();
  t.same(seen, ['arp 198.51.100.100', 'nd 2001:db8::100', 'arp closed', 'nd closed']);
});

/** A raw-socket stand-in that records every call on its one socket, in order. */
function fakeRaw(opts: { failOption?: number } = {}) {
  const calls: string[] = [];
  const mod: RawSocketModule = {
    AddressFamily: { IPv6: 2 },
    Protocol: { ICMPv6: 58 },
    createSocket: (o) => {
      calls.push(`create family=${o.addressFamily} protocol=${o.protocol}`);
      return {
        setOption: (level: number, option: number, value: number | Buffer, length?: number) => {
          calls.push(`setOption ${level} ${option} ${Buffer.isBuffer(value) ? `${value.toString('hex')}/${length}` : value}`);
          if (option === opts.failOption) throw new Error('Invalid argument');
        },
        pauseRecv: () => void calls.push('pauseRecv'),
        send: (_buf, _offset, length, address, _before, after) => {
          calls.push(`send ${length} ${address}`);
          after(null);
        },
        on: () => undefined,
        close: () => void calls.push('close'),
      };
    },
  };
  return { mod, calls };
}

t.test('the raw socket receives nothing: every ICMPv6 type filtered and reading paused, before the first send', async (t) => {
  const { mod, calls } = fakeRaw();
  const sock = openIcmp6Socket(mod);
  await sock.send(Buffer.alloc(32), 'ff02::1%eth0');
  sock.close();
  t.same(calls, [
    'create family=2 protocol=58',
    `setOption 58 1 ${'ff'.repeat(32)}/32`, // IPPROTO_ICMPV6, ICMP6_FILTER: every bit set blocks every type
    'pauseRecv',
    'setOption 41 18 255', // IPV6_MULTICAST_HOPS
    'send 32 ff02::1%eth0',
    'close',
  ]);
  t.equal(ICMP6_BLOCK_ALL.length, 32, 'struct icmp6_filter: 8 words of 32 bits, one per type 0..255');
  t.ok(ICMP6_BLOCK_ALL.every((b) => b === 0xff));
});

t.test('a socket whose filter cannot be set is closed, and the announcement reports it', async (t) => {
  const { mod, calls } = fakeRaw({ failOption: 1 });
  t.throws(() => openIcmp6Socket(mod), /Invalid argument/);
  t.same(calls.slice(-1), ['close'], 'not left open');
  const a = new NdiscAnnouncer({ openSocket: () => openIcmp6Socket(mod), macOf: () => macBytes('02:00:00:00:00:0a'), sleep: async () => undefined });
  t.match(await a.announce(VIP6, 'eth0', garp(2)), { sent: 0, errors: [/neighbour advertisement for 2001:db8::100 on eth0: Invalid argument/] });
});
