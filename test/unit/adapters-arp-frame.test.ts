// garpFrame against the bytes iputils arping 20221126 put on the wire (tcpdump -xx -e on the
// far end of a veth pair, `arping -U|-A -c 1 -I eth0 198.51.100.100` from MAC 02:00:00:00:00:10),
// then a property: any MAC and address land in the right fields, the rest never changes.
import fc from 'fast-check';
import t from 'tap';
import { garpFrame, GARP_FRAME_LENGTH, ipv4Bytes } from '../../src/adapters/arp-frame.js';

const MAC = Buffer.from('020000000010', 'hex');
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Ethernet dst | src | type | hrd | pro | hln pln | op | sha | spa | tha | tpa
const ARPING_U = hex('ffffffffffff 020000000010 0806 0001 0800 0604 0001 020000000010 c6336464 ffffffffffff c6336464');
const ARPING_A = hex('ffffffffffff 020000000010 0806 0001 0800 0604 0002 020000000010 c6336464 020000000010 c6336464');

t.test('request = arping -U, byte for byte', async (t) => {
  t.same(garpFrame('request', MAC, '198.51.100.100').toString('hex'), ARPING_U.toString('hex'));
});

t.test('reply = arping -A, byte for byte', async (t) => {
  t.same(garpFrame('reply', MAC, '198.51.100.100').toString('hex'), ARPING_A.toString('hex'));
});

t.test('any MAC and IPv4 address land where they belong', async (t) => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((q) => q.join('.'));
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((a) => Buffer.from(a));
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.constantFrom('request' as const, 'reply' as const), mac, ipv4, (form, m, ip) => {
        const f = garpFrame(form, m, ip);
        const ipb = ipv4Bytes(ip);
        const eq = (at: number, want: Buffer) => f.subarray(at, at + want.length).equals(want);
        const bcast = Buffer.alloc(6, 0xff);
        return (
          f.length === GARP_FRAME_LENGTH &&
          eq(0, bcast) && // Ethernet destination: always broadcast, as arping
          eq(6, m) && // Ethernet source
          eq(12, hex('0806 0001 0800 0604')) && // ethertype ARP, Ethernet/IPv4, 6/4
          f.readUInt16BE(20) === (form === 'request' ? 1 : 2) &&
          eq(22, m) && // sender MAC
          eq(28, ipb) && // sender IP = VIP
          eq(32, form === 'request' ? bcast : m) && // target MAC: broadcast (-U) or ours (-A)
          eq(38, ipb) // target IP = VIP
        );
      }),
    ),
  );
});

t.test('refuses what is not a MAC or an IPv4 address', async (t) => {
  t.throws(() => garpFrame('request', Buffer.alloc(5), '198.51.100.100'), /6 bytes/);
  t.throws(() => garpFrame('reply', MAC, '2001:db8::1'), /not an IPv4 address/);
  t.throws(() => garpFrame('reply', MAC, '198.51.100.256'), /not an IPv4 address/);
});
