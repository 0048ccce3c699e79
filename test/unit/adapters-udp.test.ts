// The socket-free parts of the UDP transport: the address-family rule, and PeerLink's send
// path against a fake socket (connected vs fallback, reconnect spacing, how socket errors are
// classified). The real kernel behaviour (ICMP -> ECONNREFUSED) is in test/netns/adapters.test.ts.
import t from 'tap';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:dgram';
import { PeerLink, type PeerEvents } from '../../src/adapters/udp-peer.js';
import { socketTypeFor, errorCode, interfaceHolding } from '../../src/adapters/udp-socket.js';
import type { NetworkInterfaceInfo } from 'node:os';
import { monotonicClock } from '../../src/adapters/clock.js';

const PEER = { address: '198.51.100.2', port: 694 };

/** Just enough of dgram.Socket: records sends, answers connect() with a scripted error. */
class FakeSocket extends EventEmitter {
  sends: unknown[][] = [];
  connects = 0;
  constructor(public connectErrors: (Error | null)[] = []) {
    super();
  }
  send(...args: unknown[]): void {
    this.sends.push(args.slice(0, -1));
    (args[args.length - 1] as (e: Error | null) => void)(null);
  }
  connect(_port: number, _addr: string, cb: (e?: Error) => void): void {
    this.connects++;
    const err = this.connectErrors.shift() ?? null;
    queueMicrotask(() => cb(err ?? undefined));
  }
}

function errno(code: string): Error {
  return Object.assign(new Error(`send ${code}`), { code });
}

function link(connectErrors: (Error | null)[] = [], reconnectMs = 1000) {
  const sock = new FakeSocket(connectErrors);
  const fallback = new FakeSocket();
  const log: string[] = [];
  const events: PeerEvents = {
    unreachable: (a) => log.push(`unreachable ${a}`),
    sendError: (a, c) => log.push(`error ${a} ${c}`),
  };
  const l = new PeerLink(PEER, sock as unknown as Socket, fallback as unknown as Socket, events, reconnectMs);
  return { l, sock, fallback, log };
}

t.test('socketTypeFor picks one family, refuses a mix', async (t) => {
  t.equal(socketTypeFor([null, '198.51.100.2']), 'udp4');
  t.equal(socketTypeFor([null, null]), 'udp4');
  t.equal(socketTypeFor(['2001:db8::1', '2001:db8::2', null]), 'udp6');
  t.throws(() => socketTypeFor(['198.51.100.1', '2001:db8::2']), /mix IPv4 and IPv6/);
});

t.test('connected: sends on the peer socket, without an address', async (t) => {
  const { l, sock, fallback, log } = link();
  await l.connect(0);
  t.equal(l.isConnected(), true);
  const buf = Buffer.from('hb');
  l.send(buf, 10);
  t.same(sock.sends, [[buf]]);
  t.same(fallback.sends, []);
  t.same(log, [], 'no error');
});

t.test('ECONNREFUSED on the peer socket is "unreachable"; other errors are send errors', async (t) => {
  const { l, sock, log } = link();
  await l.connect(0);
  sock.emit('error', errno('ECONNREFUSED'));
  sock.emit('error', errno('EHOSTUNREACH'));
  t.same(log, ['unreachable 198.51.100.2', 'error 198.51.100.2 EHOSTUNREACH']);
});

t.test('connect fails (no route): fallback sends, reconnect at most once per reconnectMs', async (t) => {
  const { l, sock, fallback, log } = link([errno('ENETUNREACH'), errno('ENETUNREACH'), null], 1000);
  await l.connect(0);
  t.equal(l.isConnected(), false);
  t.same(log, ['error 198.51.100.2 ENETUNREACH']);
  const buf = Buffer.from('hb');
  l.send(buf, 500); // too early to retry
  t.same(fallback.sends, [[buf, 694, '198.51.100.2']]);
  t.equal(sock.connects, 1);
  l.send(buf, 1000); // retry starts, fails
  await new Promise((r) => setImmediate(r));
  t.equal(sock.connects, 2);
  l.send(buf, 1500);
  t.equal(sock.connects, 2, 'spacing is from the last attempt');
  l.send(buf, 2000); // retry succeeds
  await new Promise((r) => setImmediate(r));
  t.equal(l.isConnected(), true);
  l.send(buf, 2010);
  t.same(sock.sends, [[buf]], 'then the connected socket is used');
  t.equal(fallback.sends.length, 4);
});

t.test('interfaceHolding: the one interface with the IPv6 bind address names the group scope', async (t) => {
  const v6 = (address: string): NetworkInterfaceInfo => ({ address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:10', internal: false, cidr: `${address}/64`, scopeid: 0 });
  const v4 = (address: string): NetworkInterfaceInfo => ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:10', internal: false, cidr: `${address}/24` });
  const ifs = { lo: [v4('127.0.0.1'), v6('::1')], eth0: [v4('198.51.100.10'), v6('2001:db8::10')], eth1: [v6('2001:db8:1::10')] };
  t.equal(interfaceHolding('2001:db8::10', ifs), 'eth0');
  t.equal(interfaceHolding('2001:DB8:0::0:10', ifs), 'eth0', 'compared in canonical form');
  t.equal(interfaceHolding('2001:db8:1::10', ifs), 'eth1');
  t.equal(interfaceHolding('2001:db8::99', ifs), null, 'held by no interface: the route decides');
  t.equal(interfaceHolding('::', ifs), null, 'the wildcard is on no interface');
  t.equal(interfaceHolding('2001:db8::10', { ...ifs, eth2: [v6('2001:db8::10')] }), null, 'on two interfaces: ambiguous, the route decides');
});

t.test('errorCode', async (t) => {
  t.equal(errorCode(errno('EPERM')), 'EPERM');
  t.equal(errorCode(new Error('plain')), 'plain');
  t.equal(errorCode('text'), 'text');
});

t.test('monotonicClock: non-decreasing, not wall-clock', async (t) => {
  const a = monotonicClock.now();
  const b = monotonicClock.now();
  t.ok(b >= a);
  // performance.now() counts from process start; Date.now() counts from 1970.
  t.ok(a < Date.now() / 2, 'not epoch milliseconds');
});
