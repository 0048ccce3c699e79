/**
 * Redundant heartbeat paths with a local address each: a heartbeat.peers entry may name the
 * local address its path leaves from (`bind`), which overrides heartbeat.bind for that path.
 * Parsing and resolution, and the refusals (each at its line).
 */
import t from 'tap';
import { renderEffectiveConfig } from '../../src/config/render.js';
import { issuesOf, parse } from './config-harness.js';

/** Two paths to d1: the service segment (heartbeat.bind) and a backbone with its own bind. */
const TWO_PATHS = [
  'cluster: lb1', //                                                     1
  'heartbeat:', //                                                       2
  '  bind: 198.51.100.10', //                                            3
  '  peers:', //                                                         4
  '    - { node: d1, address: 198.51.100.11 }', //                       5
  '    - { node: d1, address: 203.0.113.11, bind: 203.0.113.10 }', //   6
  'groups:', //                                                          7
  '  - { name: web, vip: 198.51.100.100/32, interface: eth0 }', //       8
];

/** TWO_PATHS with line n (1-based) replaced. */
function withLine(n: number, text: string): string {
  const lines = [...TWO_PATHS];
  lines.splice(n - 1, 1, text);
  return lines.join('\n') + '\n';
}

const text = withLine(1, TWO_PATHS[0]!);

t.test('a path with its own bind resolves with it; the others take heartbeat.bind', async (t) => {
  const c = parse(text);
  t.equal(c.heartbeat.bind, '198.51.100.10');
  t.same(c.heartbeat.peers, [
    { address: '198.51.100.11', port: 694, node: 'd1' },
    { address: '203.0.113.11', port: 694, node: 'd1', bind: '203.0.113.10' },
  ]);
  t.same(parse(renderEffectiveConfig(c)).heartbeat.peers, c.heartbeat.peers, 'the effective configuration reads back the same');
  const v6 = parse(withLine(6, '    - { node: d1, address: "2001:db8::11", bind: "2001:DB8:0::10" }').replace('  bind: 198.51.100.10\n', '').replace('198.51.100.11 }', '"2001:db8:1::11" }'));
  t.equal(v6.heartbeat.peers[1]?.bind, '2001:db8::10', 'an IPv6 bind is kept in its canonical form');
  t.equal(parse(text.replace('  bind: 198.51.100.10\n', '')).heartbeat.bind, null, 'heartbeat.bind may be left out beside a path bind');
});

t.test('a path bind that cannot be this node\'s address is refused at the path', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['    - { node: d1, address: 203.0.113.11, bind: eth1 }', 'heartbeat.peers[1]', /bind is a local address of this node/],
    ['    - { node: d1, address: 203.0.113.11, bind: 239.1.1.1 }', 'heartbeat.peers[1]', /bind is a local address .*not multicast/],
    ['    - { node: d1, address: 203.0.113.11, bind: 0.0.0.0 }', 'heartbeat.peers[1]', /bind is a local address .*not 0\.0\.0\.0/],
    ['    - { node: d1, address: 203.0.113.11, source: 203.0.113.10 }', 'heartbeat.peers[1]', /the keys node and address, and bind only/],
  ];
  for (const [line, path, expected] of cases) {
    const issues = issuesOf(withLine(6, line));
    t.equal(issues.length, 1, `${line}: one issue (${JSON.stringify(issues)})`);
    t.match(issues[0], { path, line: 6 }, `${line}: at ${path}, line 6`);
    t.match(issues[0]?.expected, expected, `${line}: says what is expected`);
  }
});

t.test('a path bind of the other family than its address is refused at the bind', async (t) => {
  const issues = issuesOf(withLine(6, '    - { node: d1, address: 203.0.113.11, bind: "2001:db8::10" }'));
  t.equal(issues.length, 1, JSON.stringify(issues));
  t.match(issues[0], { path: 'heartbeat.peers[1].bind', line: 6, column: 48, value: '"2001:db8::10"' });
  t.match(issues[0]?.expected, /an IPv4 address, like this path's address/);
});

t.test('a peer address that is one of this node\'s bind addresses is this node', async (t) => {
  const issues = issuesOf(withLine(5, '    - { node: d1, address: 203.0.113.10 }'));
  t.equal(issues.length, 1, JSON.stringify(issues));
  t.match(issues[0], { path: 'heartbeat.peers[0]', line: 5 });
  t.match(issues[0]?.expected, /other than heartbeat\.bind and the paths' bind addresses/);
});
