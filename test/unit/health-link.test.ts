// Link tracking: the pure parsers on lines captured from `ip -o monitor link` (iproute2 6.1, a
// veth pair in a namespace), and LinkMonitor driven by a fake monitor process, a fake runner and
// a hand-driven clock. Nothing is spawned.
import t from 'tap';
import { LineSplitter, flagsUp, parseLinkShow, parseMonitorLine } from '../../src/health/link-parse.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { LinkMonitor, MONITOR_ARGV, spawnLineProcess, type MonitorExit, type SpawnLines } from '../../src/health/link-monitor.js';
import type { CommandResult, CommandRunner } from '../../src/ports/index.js';
import { FakeTime, deferred } from './health-fakes.js';

const TAIL = ' mtu 1500 qdisc noqueue state UP group default \\    link/ether d6:7f:dc:b0:57:23 brd ff:ff:ff:ff:ff:ff link-netns x';
const CAPTURED = {
  noCarrier: '2: eth0@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether d6:7f:dc:b0:57:23 brd ff:ff:ff:ff:ff:ff link-netns hcap15980b',
  up: '2: eth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether d6:7f:dc:b0:57:23 brd ff:ff:ff:ff:ff:ff link-netns hcap15980b',
  adminDown: '2: eth0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether d6:7f:dc:b0:57:23 brd ff:ff:ff:ff:ff:ff link-netns hcap15980b',
  renamed: '2: eth9@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether d6:7f:dc:b0:57:23 brd ff:ff:ff:ff:ff:ff link-netns hcap15980b',
  deleted: 'Deleted 2: eth9@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether d6:7f:dc:b0:57:23 brd ff:ff:ff:ff:ff:ff',
};

t.test('parseMonitorLine on captured lines', async (t) => {
  t.same(parseMonitorLine(CAPTURED.up), { ifindex: 2, iface: 'eth0', up: true, deleted: false });
  t.same(parseMonitorLine(CAPTURED.noCarrier), { ifindex: 2, iface: 'eth0', up: false, deleted: false }, 'peer down: carrier lost');
  t.same(parseMonitorLine(CAPTURED.adminDown), { ifindex: 2, iface: 'eth0', up: false, deleted: false }, 'ip link set down');
  t.same(parseMonitorLine(CAPTURED.renamed), { ifindex: 2, iface: 'eth9', up: true, deleted: false });
  t.same(parseMonitorLine(CAPTURED.deleted), { ifindex: 2, iface: 'eth9', up: false, deleted: true });
});

t.test('parseMonitorLine on other shapes', async (t) => {
  t.same(parseMonitorLine(`1: lo: <LOOPBACK,UP,LOWER_UP>${TAIL}`), { ifindex: 1, iface: 'lo', up: true, deleted: false });
  t.same(parseMonitorLine(`[LINK]7: bond0: <BROADCAST,MULTICAST,MASTER,UP,LOWER_UP>${TAIL}`), { ifindex: 7, iface: 'bond0', up: true, deleted: false }, 'ip monitor all tag');
  t.match(parseMonitorLine(`12: eth0.100@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP>${TAIL}`), { iface: 'eth0.100', up: true }, 'vlan');
  t.match(parseMonitorLine(`5: mv0@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN>${TAIL}`), { up: false }, 'macvlan with its lower link down');
  t.match(parseMonitorLine(`3: wlan0: <>${TAIL}`), { iface: 'wlan0', up: false });
  for (const junk of ['', '   ', 'Deleted', 'eth0: <UP>', '2: eth0 <UP,LOWER_UP>', 'inet 198.51.100.1/24 scope global eth0', 'x2: eth0: <UP,LOWER_UP>']) {
    t.equal(parseMonitorLine(junk), null, JSON.stringify(junk));
  }
});

t.test('flagsUp needs admin up and carrier', async (t) => {
  t.equal(flagsUp(['UP', 'LOWER_UP']), true);
  t.equal(flagsUp(['UP']), false);
  t.equal(flagsUp(['LOWER_UP']), false);
  t.equal(flagsUp(['NO-CARRIER', 'UP', 'LOWER_UP']), false);
  t.equal(flagsUp([]), false);
});

t.test('parseLinkShow on ip -json link show output', async (t) => {
  const show = (flags: string[], name = 'eth0') => JSON.stringify([{ ifindex: 4, ifname: name, flags, mtu: 1500, operstate: 'UP' }]);
  t.same(parseLinkShow(show(['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP']), 'eth0'), { up: true, ifindex: 4 });
  t.same(parseLinkShow(show(['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP']), 'eth0'), { up: false, ifindex: 4 });
  t.equal(parseLinkShow(show(['UP', 'LOWER_UP'], 'eth1'), 'eth0'), null, 'another interface');
  for (const bad of ['', 'not json', '{}', '[1]', '[{"ifname":"eth0"}]']) t.equal(parseLinkShow(bad, 'eth0'), null, bad);
});

t.test('LineSplitter keeps partial lines and drops over-long ones whole', async (t) => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l), 10);
  s.push('ab');
  s.push('c\nde');
  s.push('f\n');
  t.same(lines, ['abc', 'def']);
  s.push('0123456789ABCDEF');
  s.push('GHI\nok\n');
  t.same(lines, ['abc', 'def', 'ok'], 'the tail of an over-long line is not taken for a new line');
});

/** A fake `ip monitor`: the test writes lines into it and ends it. */
function harness(ifaces: string[], links: Record<string, string | null>, options = {}) {
  const time = new FakeTime();
  const events: [string, boolean, number][] = [];
  const exits: MonitorExit[] = [];
  const procs: { argv: readonly string[]; line: (l: string) => void; exit: () => void; killed: boolean }[] = [];
  const reads: string[] = [];
  const held = new Map<string, (r: CommandResult) => void>();
  const spawnLines: SpawnLines = (argv, onLine, onExit) => {
    const p = { argv, line: onLine, exit: () => onExit(1, null, 'boom'), killed: false };
    procs.push(p);
    return { pid: 1000 + procs.length, kill: () => void (p.killed = true) };
  };
  const answer = (iface: string): CommandResult => {
    const flags = links[iface];
    if (flags === null || flags === undefined) return { code: 1, signal: null, stdout: '', stderr: `Device "${iface}" does not exist.`, timedOut: false };
    return { code: 0, signal: null, stdout: JSON.stringify([{ ifindex: 9, ifname: iface, flags: flags.split(',') }]), stderr: '', timedOut: false };
  };
  const runner: CommandRunner = {
    run: (argv) => {
      const iface = String(argv.at(-1));
      reads.push(iface);
      if (!held.has(`hold:${iface}`)) return Promise.resolve(answer(iface));
      const d = deferred<CommandResult>();
      held.set(iface, d.resolve);
      return d.promise;
    },
  };
  const monitor = new LinkMonitor(ifaces, {
    runner,
    timers: time,
    clock: time,
    spawnLines,
    onLink: (iface, up) => events.push([iface, up, time.now()]),
    onMonitorExit: (e) => exits.push(e),
    options,
  });
  return { time, events, exits, procs, reads, held, answer, monitor };
}

t.test('LinkMonitor: initial read, then events, reported on change only', async (t) => {
  const h = harness(['eth0', 'eth1'], { eth0: 'UP,LOWER_UP', eth1: null });
  h.monitor.start();
  t.same(h.procs[0].argv, MONITOR_ARGV, 'spawns ip -o monitor link');
  await h.time.advance(0);
  t.same(h.events, [['eth0', true, 0], ['eth1', false, 0]], 'a missing interface is down');
  h.procs[0].line(CAPTURED.noCarrier);
  h.procs[0].line(CAPTURED.adminDown);
  h.procs[0].line(CAPTURED.up);
  h.procs[0].line(`3: eth7: <UP,LOWER_UP>${TAIL}`);
  t.same(h.events.slice(2), [['eth0', false, 0], ['eth0', true, 0]], 'unwatched interfaces and repeats are not reported');
  await h.time.advance(DEFAULTS.link.confirmDelay);
  t.same(h.reads, ['eth0', 'eth1', 'eth0', 'eth1'], 'read again once after confirmDelay');
  t.equal(h.events.length, 4, 'the confirming read changed nothing');
  h.monitor.stop();
});

t.test('LinkMonitor: a read never overrides a newer event', async (t) => {
  const h = harness(['eth0'], { eth0: 'UP,LOWER_UP' });
  h.held.set('hold:eth0', () => undefined);
  h.monitor.start();
  h.procs[0].line(CAPTURED.adminDown); // the kernel said down after the read started
  h.held.get('eth0')?.(h.answer('eth0')); // the stale read says up
  await h.time.advance(0);
  t.same(h.events, [['eth0', false, 0]]);
  h.monitor.stop();
});

t.test('LinkMonitor: rename away and deletion report down', async (t) => {
  const h = harness(['eth0'], { eth0: 'UP,LOWER_UP' });
  h.monitor.start();
  await h.time.advance(0);
  h.procs[0].line(CAPTURED.up);
  h.procs[0].line(CAPTURED.renamed);
  t.same(h.events.map((e) => e.slice(0, 2)), [['eth0', true], ['eth0', false]], 'eth0 renamed to eth9 is gone');
  h.procs[0].line(CAPTURED.up.replace('2:', '5:'));
  h.procs[0].line(CAPTURED.up.replace('2:', '5:').replace(/^/, 'Deleted '));
  t.same(h.events.slice(2).map((e) => e.slice(0, 2)), [['eth0', true], ['eth0', false]], 'a new eth0, then deleted');
  h.monitor.stop();
});

t.test('LinkMonitor: a dead monitor is restarted with backoff and the links read again', async (t) => {
  const h = harness(['eth0'], { eth0: 'UP,LOWER_UP' }, { backoffMin: 100, backoffMax: 400, stableAfter: 10_000 });
  h.monitor.start();
  await h.time.advance(1000);
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    h.procs.at(-1)?.exit();
    delays.push(h.exits.at(-1)?.restartIn ?? -1);
    await h.time.advance(h.exits.at(-1)?.restartIn ?? 0);
  }
  t.same(delays, [100, 200, 400, 400], 'doubles up to backoffMax');
  t.equal(h.procs.length, 5);
  t.match(h.exits[0], { code: 1, stderr: 'boom' });
  await h.time.advance(10_000);
  h.procs.at(-1)?.exit();
  t.equal(h.exits.at(-1)?.restartIn, 100, 'after a stable run the backoff starts over');
  const readsBefore = h.reads.length;
  await h.time.advance(100);
  t.ok(h.reads.length > readsBefore, 'links read again after the restart');
  h.monitor.stop();
  t.equal(h.procs.at(-1)?.killed, true, 'stop kills the running monitor');
  h.procs.at(-1)?.exit();
  t.equal(h.exits.length, 5, 'an exit after stop is not restarted');
  t.equal(h.time.pending(), 0);
});

t.test('spawnLineProcess: real child, lines out, one exit report', async (t) => {
  const run = (argv: string[]) =>
    new Promise<{ lines: string[]; exit: [number | null, string | null, string] }>((resolve) => {
      const lines: string[] = [];
      spawnLineProcess(argv, (l) => lines.push(l), (code, signal, stderr) => resolve({ lines, exit: [code, signal, stderr] }));
    });
  const r = await run(['sh', '-c', 'printf "one\\ntw"; printf "o\\nthree"; echo oops >&2; exit 3']);
  t.same(r.lines, ['one', 'two'], 'a last line without newline is never delivered half');
  t.same(r.exit, [3, null, 'oops\n']);
  t.match((await run(['/nonexistent/haagent-ip'])).exit, [-1, null, /ENOENT/]);
  const killed = await new Promise<[number | null, string | null]>((resolve) => {
    const p = spawnLineProcess(['sleep', '5'], () => undefined, (code, signal) => resolve([code, signal]));
    t.type(p.pid, 'number');
    p.kill();
  });
  t.same(killed, [null, 'SIGKILL']);
});

t.test('LinkMonitor.watch (reload): kept links stay quiet, new ones are read, dropped ones forgotten', async (t) => {
  const h = harness(['eth0', 'eth1'], { eth0: 'UP,LOWER_UP', eth1: 'UP,LOWER_UP', eth2: 'UP', eth3: null });
  h.monitor.start();
  await h.time.advance(DEFAULTS.link.confirmDelay);
  const reads = h.reads.length;
  const events = h.events.length;
  h.monitor.watch(['eth0', 'eth2', 'eth3']);
  await h.time.advance(0);
  t.same(h.reads.slice(reads), ['eth2', 'eth3'], 'only the new interfaces are read');
  t.same(h.events.slice(events), [['eth2', false, DEFAULTS.link.confirmDelay], ['eth3', false, DEFAULTS.link.confirmDelay]], 'no carrier / missing: down');
  h.procs[0].line(`3: eth1: <BROADCAST,MULTICAST>${TAIL}`);
  t.equal(h.events.length, events + 2, 'events of a dropped interface are ignored');
  await h.time.advance(DEFAULTS.link.confirmDelay);
  t.same(h.reads.slice(reads), ['eth2', 'eth3', 'eth2', 'eth3'], 'and read once more after confirmDelay, like at start');
  t.equal(h.procs.length, 1, 'the same ip monitor keeps running');
  h.monitor.stop();
});
