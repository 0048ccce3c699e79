/**
 * The bgp readback against output captured from the real daemons (test/fixtures/bgp: BIRD
 * 2.0.12 and FRR 8.4.4 in a throwaway namespace, a BGP session to a BIRD router): what reads
 * as announced, as not announced, and as unknown; the argv each adapter runs.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { birdExported, frrAnnounced, parseBirdProtocol, readbackFor } from '../../src/bgp/readback.js';
import type { CommandResult, CommandRunner } from '../../src/ports/index.js';
import type { Vip } from '../../src/config/types.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/bgp/${name}`, import.meta.url), 'utf8');
const VIP: Vip = { address: '203.0.113.100', prefix: 32, family: 4 };
const V6: Vip = { address: '2001:db8::100', prefix: 128, family: 6 };
const res = (stdout: string, code = 0, extra: Partial<CommandResult> = {}): CommandResult => ({ code, signal: null, stdout, stderr: '', timedOut: false, ...extra });

function runner(results: CommandResult[]): CommandRunner & { argvs: string[][] } {
  const argvs: string[][] = [];
  return { argvs, run: (argv) => (argvs.push([...argv]), Promise.resolve(results.shift() ?? res('', -1, { stderr: 'no more results' }))) };
}

t.test('BIRD show protocols: the row of the protocol, state and info', async (t) => {
  t.same(parseBirdProtocol(fixture('bird-protocols-established.txt'), 'upstream'), { state: 'up', info: 'Established' });
  t.same(parseBirdProtocol(fixture('bird-protocols-active.txt'), 'upstream'), { state: 'start', info: 'Active Received: Administrative shutdown' });
  t.equal(parseBirdProtocol(fixture('bird-protocols-established.txt'), 'other'), null);
});

t.test('BIRD show route export: listed, not found, no tables, an error', async (t) => {
  t.equal(birdExported(res(fixture('bird-route-exported.txt')), '203.0.113.100/32'), true);
  t.not(birdExported(res(fixture('bird-route-exported.txt')), '203.0.113.10/32'), true, 'a prefix that only starts the same is not it');
  t.equal(birdExported(res(fixture('bird-route-not-found.txt'), 1), '203.0.113.100/32'), false);
  t.equal(birdExported(res(fixture('bird-route-no-tables.txt'), 1), '203.0.113.100/32'), false);
  t.match(birdExported(res(fixture('bird-syntax-error.txt'), 1), '203.0.113.100/32'), /^syntax error, unexpected CF_SYM_UNDEFINED/);
});

t.test('FRR json: advertised, peer down, absent, garbage', async (t) => {
  t.same(frrAnnounced(fixture('frr-advertised.json')), { announced: 'yes', detail: 'advertised to 198.51.100.1' });
  t.same(frrAnnounced(fixture('frr-peer-down.json')), { announced: 'no', detail: 'advertised to no peer' });
  t.same(frrAnnounced(fixture('frr-absent.json')), { announced: 'no', detail: 'not in the BGP table' });
  t.match(frrAnnounced('% Unknown command'), { announced: 'unknown' });
  const learned = JSON.parse(fixture('frr-advertised.json')) as { paths: { sourced?: boolean }[] };
  delete learned.paths[0]!.sourced;
  t.same(frrAnnounced(JSON.stringify(learned)), { announced: 'no', detail: 'no locally sourced best path' }, 'a path learned from a peer is not our announcement');
});

const BIRD = { kind: 'bird' as const, birdc: '/usr/sbin/birdc', socket: '/tmp/lab/d0.ctl', protocol: 'upstream' };

t.test('bird readback: session up and route exported -> yes; argv restricted, on the socket', async (t) => {
  const r = runner([res(fixture('bird-protocols-established.txt')), res(fixture('bird-route-exported.txt')), res(fixture('bird-route-not-found.txt'), 1)]);
  const got = await readbackFor(BIRD, r, 1000).read([VIP, { ...VIP, address: '203.0.113.101' }]);
  t.same(Object.fromEntries(got), {
    '203.0.113.100/32': { announced: 'yes', detail: 'exported to upstream' },
    '203.0.113.101/32': { announced: 'no', detail: 'not exported to upstream' },
  });
  t.same(r.argvs[0], ['/usr/sbin/birdc', '-r', '-s', '/tmp/lab/d0.ctl', 'show', 'protocols', 'upstream']);
  t.same(r.argvs[1], ['/usr/sbin/birdc', '-r', '-s', '/tmp/lab/d0.ctl', 'show', 'route', '203.0.113.100/32', 'export', 'upstream']);
});

t.test('bird readback: session down -> no, without asking for routes', async (t) => {
  const r = runner([res(fixture('bird-protocols-active.txt'))]);
  const got = await readbackFor(BIRD, r, 1000).read([VIP]);
  t.same(got.get('203.0.113.100/32'), { announced: 'no', detail: 'session upstream start Active Received: Administrative shutdown' });
  t.equal(r.argvs.length, 1);
});

t.test('bird readback: no socket, unknown protocol, a timeout -> unknown with the reason', async (t) => {
  const nosock = res('', 1, { stdout: 'Unable to connect to server control socket (/tmp/lab/d0.ctl): No such file or directory\n' });
  t.match((await readbackFor(BIRD, runner([nosock]), 1000).read([VIP])).get('203.0.113.100/32'), { announced: 'unknown', detail: /exit 1: Unable to connect to server control socket/ });
  const noproto = res(fixture('bird-protocols-established.txt'));
  t.match((await readbackFor({ ...BIRD, protocol: 'up2' }, runner([noproto]), 1000).read([VIP])).get('203.0.113.100/32'), { announced: 'unknown', detail: /no protocol up2/ });
  const slow = res('', -1, { timedOut: true, signal: 'SIGKILL' });
  t.match((await readbackFor(BIRD, runner([slow]), 1000).read([VIP])).get('203.0.113.100/32'), { announced: 'unknown', detail: /timed out/ });
});

t.test('frr readback: one vtysh per VIP with its family, --vty_socket when set', async (t) => {
  const r = runner([res(fixture('frr-advertised.json')), res(fixture('frr-absent.json'))]);
  const got = await readbackFor({ kind: 'frr', vtysh: '/usr/bin/vtysh', socketDir: '/tmp/lab/d0' }, r, 1000).read([VIP, V6]);
  t.same(r.argvs, [
    ['/usr/bin/vtysh', '--vty_socket', '/tmp/lab/d0', '-c', 'show bgp ipv4 unicast 203.0.113.100/32 json'],
    ['/usr/bin/vtysh', '--vty_socket', '/tmp/lab/d0', '-c', 'show bgp ipv6 unicast 2001:db8::100/128 json'],
  ]);
  t.equal(got.get('203.0.113.100/32')?.announced, 'yes');
  t.equal(got.get('2001:db8::100/128')?.announced, 'no');
  const down = runner([res('Exiting: failed to connect to any daemons.\n', 1)]);
  t.match((await readbackFor({ kind: 'frr', vtysh: '/usr/bin/vtysh', socketDir: null }, down, 1000).read([VIP])).get('203.0.113.100/32'), { announced: 'unknown', detail: /failed to connect to any daemons/ });
  t.same(down.argvs[0]!.slice(0, 2), ['/usr/bin/vtysh', '-c']);
});
