/**
 * The systemd notification protocol, end to end: the real agent started the way systemd starts
 * a Type=notify unit with WatchdogSec= (NOTIFY_SOCKET, WATCHDOG_USEC), talking to an AF_UNIX
 * datagram socket this test binds. READY=1 comes once the agent answers on its control socket,
 * STATUS= follows the group's state, keep-alives come every half period and stop while the
 * agent is frozen, STOPPING=1 comes on SIGTERM, and hooks do not inherit NOTIFY_SOCKET.
 * The agent is started by plain `node` without the binary's node flags, as a hand-written unit
 * might: it relaunches itself with them under the same PID, so all of the above still holds.
 * Needs root and `npm run build`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { HaagentCluster, HAAGENT_MAIN, HAAGENT_NODE_FLAGS, haagentAvailable } from './agents/haagent.js';
import { sleep, waitFor, within } from './exec.js';
import { Lab } from './lab.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

interface Received {
  at: number;
  text: string;
}

interface UnixDgramServer {
  bind(path: string): void;
  close(): void;
  on(event: 'error', fn: (e: Error) => void): void;
}

const WATCHDOG_USEC = 1_000_000; // keep-alive expected every 500 ms

t.test('READY, STATUS, WATCHDOG and STOPPING reach the notification socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-notify-'));
  const socketPath = join(dir, 'notify');
  const got: Received[] = [];
  const udg = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram', fn: (buf: Buffer) => void): UnixDgramServer };
  const server = udg.createSocket('unix_dgram', (buf) => got.push({ at: Date.now(), text: buf.toString() }));
  server.on('error', (e) => t.fail(`notify socket: ${e.message}`));
  server.bind(socketPath);
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab, { interval: '50ms', deadTime: '150ms', initDead: '300ms' });
  const kinds = (k: string) => got.filter((m) => m.text.split('\n').some((l) => l.startsWith(k)));
  try {
    const [d0, d1] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    // A hook that prints what it inherited of these variables into the agent's log.
    const cfg = parse(readFileSync(d0.configPath, 'utf8')) as Record<string, unknown>;
    cfg.notify = [['/usr/bin/printenv', 'NOTIFY_SOCKET', 'WATCHDOG_USEC', 'HAAGENT_RELAUNCHED', 'HAAGENT_GROUP']];
    writeFileSync(d0.configPath, stringify(cfg), { mode: 0o600 });
    d1.start();
    const argv = [process.execPath, HAAGENT_MAIN, 'run', '--config', d0.configPath];
    d0.proc = lab.spawn(d0.host, argv, { logFile: d0.logPath, env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: String(WATCHDOG_USEC) } });

    const ready = await waitFor(async () => kinds('READY=1').length > 0, 10000, 10);
    t.ok(ready, 'READY=1 received', { diagnostic: !ready, log: d0.logTail() });
    if (!ready) return;
    // The PID systemd started (MAINPID) runs node with the flags now, the guard variable gone.
    const cmdline = readFileSync(`/proc/${d0.proc.pid}/cmdline`, 'utf8').split('\0');
    t.same(cmdline.slice(1, 1 + HAAGENT_NODE_FLAGS.length), HAAGENT_NODE_FLAGS, 'relaunched in place with the node flags', { cmdline });
    t.equal(cmdline[1 + HAAGENT_NODE_FLAGS.length], HAAGENT_MAIN, 'then the same script and arguments');
    // By the time READY=1 is sent the control socket answers.
    t.ok(await d0.status(), 'the control socket answers once READY=1 has come');
    const active = await waitFor(async () => kinds('STATUS=').some((m) => m.text.includes('STATUS=web active 198.51.100.100')), 5000, 20);
    t.ok(active, 'STATUS= reports the group active', { got: got.map((m) => m.text).slice(0, 8) });

    // Keep-alives while the loop turns: every 500 ms, none as late as the timeout.
    const from = Date.now();
    await sleep(3000);
    const pings = kinds('WATCHDOG=1').filter((m) => m.at >= from);
    t.ok(pings.length >= 4 && pings.length <= 8, `about 6 keep-alives in 3 s (got ${pings.length})`);
    const gaps = pings.slice(1).map((m, i) => m.at - pings[i]!.at);
    t.ok(Math.max(...gaps) < 2 * (WATCHDOG_USEC / 1000), `no gap reaches the watchdog timeout (max ${Math.max(...gaps)} ms)`);

    // Frozen agent: no keep-alive, so systemd would kill it (and ExecStopPost release).
    // A keep-alive sent just before the stop may still sit in our socket: count from 300 ms
    // after the stop, when anything already sent has been read.
    d0.proc.kill('SIGSTOP');
    await sleep(300);
    const before = kinds('WATCHDOG=1').length;
    await sleep(1500);
    t.equal(kinds('WATCHDOG=1').length, before, 'no keep-alive while the agent is frozen');
    d0.proc.kill('SIGCONT');
    const resumed = await waitFor(async () => kinds('WATCHDOG=1').length > before, 3000, 20);
    t.ok(resumed, 'keep-alives resume after SIGCONT');

    // Reload by SIGHUP (the unit's ExecReload asks on the socket; both go the same way): RELOADING=1, then READY=1 again.
    const hupAt = got.length;
    d0.proc.kill('SIGHUP');
    const reloaded = await waitFor(async () => got.slice(hupAt).some((m) => m.text.startsWith('READY=1')), 5000, 20);
    const afterHup = got.slice(hupAt).map((m) => m.text.split('\n')[0]).filter((l) => l !== 'WATCHDOG=1');
    t.ok(reloaded, 'READY=1 after the reload');
    t.match(afterHup.slice(0, 2), ['RELOADING=1', 'READY=1'], 'RELOADING=1 first');

    const stopAt = got.length;
    const exit = await d0.stop(10000);
    t.same(exit?.code, 0, 'graceful stop exits 0');
    t.ok(got.slice(stopAt).some((m) => m.text === 'STOPPING=1'), 'STOPPING=1 on SIGTERM');
    t.notOk(got.slice(stopAt).some((m) => m.text.startsWith('READY=1')), 'no READY=1 after STOPPING=1');

    const hookRuns = readFileSync(d0.logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('notify hook /usr/bin/printenv'))
      .map((l) => JSON.parse(l) as { stdout?: string });
    t.ok(hookRuns.length > 0, 'the hook ran');
    // printenv prints the values it finds, one a line: the group only.
    t.same([...new Set(hookRuns.map((r) => r.stdout))], ['web'], 'hooks do not inherit NOTIFY_SOCKET, WATCHDOG_USEC or the relaunch guard');
  } finally {
    await cluster.stopAll().catch(() => undefined);
    await within(lab.destroy(), 15000, null);
    cluster.cleanup();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
