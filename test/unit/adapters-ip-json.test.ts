// parseIpAddrJson on canned `ip -json addr show dev X` output (iproute2 6.1 shape).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseIpAddrJson, IpParseError } from '../../src/adapters/ip-json.js';

const canned = readFileSync(new URL('../fixtures/adapters/ip-addr-show.json', import.meta.url), 'utf8');

t.test('reads v4, secondary, v6 (nodad), dadfailed and link-local entries in order', async (t) => {
  t.same(parseIpAddrJson(canned), [
    { local: '198.51.100.1', prefixlen: 24, family: 4, secondary: false, dadfailed: false },
    { local: '198.51.100.100', prefixlen: 32, family: 4, secondary: false, dadfailed: false },
    { local: '198.51.100.101', prefixlen: 24, family: 4, secondary: true, dadfailed: false },
    { local: '2001:db8::100', prefixlen: 128, family: 6, secondary: false, dadfailed: false },
    { local: '2001:db8::7', prefixlen: 64, family: 6, secondary: false, dadfailed: true },
    { local: 'fe80::ff:fe00:a', prefixlen: 64, family: 6, secondary: false, dadfailed: false },
  ]);
});

t.test('an interface without addresses gives an empty list', async (t) => {
  t.same(parseIpAddrJson('[]'), []);
  t.same(parseIpAddrJson('[{"ifindex":4,"ifname":"eth1","addr_info":[]}]'), []);
  t.same(parseIpAddrJson('[{"ifindex":4,"ifname":"eth1"}]'), [], 'addr_info omitted');
});

t.test('addresses of every listed interface are returned', async (t) => {
  const two = '[{"addr_info":[{"family":"inet","local":"198.51.100.1","prefixlen":24}]},' +
    '{"addr_info":[{"family":"inet","local":"203.0.113.1","prefixlen":24}]}]';
  t.same(parseIpAddrJson(two).map((a) => a.local), ['198.51.100.1', '203.0.113.1']);
});

t.test('unknown families are skipped, not fatal', async (t) => {
  t.same(parseIpAddrJson('[{"addr_info":[{"family":"mpls","local":"x","prefixlen":1}]}]'), []);
});

t.test('garbage is an IpParseError, never a crash or an empty list', async (t) => {
  const bad: [string, RegExp][] = [
    ['', /not JSON/],
    ['Device "eth9" does not exist.', /not JSON.*Device/],
    ['[{"addr_info":', /not JSON/],
    ['{"addr_info":[]}', /not an array of interfaces/],
    ['[42]', /\[0\] is not an object/],
    ['[{"addr_info":{}}]', /addr_info is not an array/],
    ['[{"addr_info":[null]}]', /addr_info\[0\] is not an object/],
    ['[{"addr_info":[{"family":"inet","prefixlen":24}]}]', /local is not an address/],
    ['[{"addr_info":[{"family":"inet","local":"198.51.100.1","prefixlen":"24"}]}]', /prefixlen/],
    ['[{"addr_info":[{"family":"inet","local":"198.51.100.1","prefixlen":129}]}]', /prefixlen/],
  ];
  for (const [stdout, message] of bad) {
    t.throws(() => parseIpAddrJson(stdout), { name: 'IpParseError', message }, JSON.stringify(stdout));
  }
  t.ok(new IpParseError('x') instanceof Error);
});
