/**
 * The metrics listener cannot be held by slow clients: real sockets on 127.0.0.1 (port 0)
 * against serveMetrics() with its production limits (DEFAULTS.metricsServer). A client that
 * connects and sends nothing, one that sends its headers a byte a second, and one that asks
 * for a large answer and never reads it are each cut off within their bound; 200 silent
 * clients at once (from a child process, so that their own cost is not this loop's) never hold more than maxConnections descriptors in the server, do not
 * block the event loop (a 10 ms "heartbeat" timer keeps its pace: asserted generously), and
 * once they are cut off a normal scrape answers. The server's descriptors are counted in
 * the kernel's table (/proc/self/net/tcp: the sockets on the server's port whose inode is
 * one of this process's descriptors), so a socket node:http forgot still counts.
 */
import { DEFAULTS } from '../../src/config/defaults.js';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { socketInodes } from '../netns/proc-sockets.js';
import { request } from 'node:http';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import t from 'tap';
import { serveMetrics, type MetricsServer } from '../../src/metrics/server.js';

const L = DEFAULTS.metricsServer;
/**
 * Slack on every bound: timers and the connection check are not exact, and on a loaded 2-core
 * machine (the whole suite in parallel, load 9-12) a cut-off was seen 2 s after its bound. The
 * property is that every such client is cut off, long before it could hold the server: a
 * client that is never cut off still fails after bound + slack.
 */
const SLACK_MS = 5_000;
const BIG = 'x'.repeat(16 * 1024 * 1024); // far more than the kernel buffers of both ends

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** p's value, or null after ms (a client the server never cuts off must fail the test, not hang it). */
function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)))]).finally(() => clearTimeout(timer));
}

/** Connected TCP sockets on `port` (local side) that hold a descriptor of this process. */
function serverFds(port: number): number {
  return serverSockets(port).size;
}

/** Their inodes. */
function serverSockets(port: number): Set<string> {
  const inodes = socketInodes();
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const rows = readFileSync('/proc/self/net/tcp', 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c[1]!.endsWith(portHex) && c[3] !== '0A' && inodes.has(c[9]!)); // 0A: LISTEN
  return new Set(rows.map((c) => c[9]!));
}

/** Polls until serverFds(port) is 0; the ms it took from `since`, or null past the bound. */
async function serverLetGo(port: number, since: number, boundMs: number): Promise<number | null> {
  while (Date.now() - since < boundMs) {
    if (serverFds(port) === 0) return Date.now() - since;
    await sleep(50);
  }
  return null;
}

async function serve(t: Tap): Promise<MetricsServer> {
  const srv = await serveMetrics({ text: async () => BIG, contentType: 'text/plain' }, '127.0.0.1', 0);
  t.teardown(() => srv.close());
  return srv;
}

type Tap = { teardown(fn: () => unknown): void };

/** A client socket; resolves `closed` with the ms from connect to close (the server cut it off). */
function client(port: number, onConnect: (c: net.Socket) => void = () => undefined) {
  const c = net.connect(port, '127.0.0.1');
  c.on('error', () => undefined);
  const start = Date.now();
  const closed = new Promise<number>((resolve) => c.once('close', () => resolve(Date.now() - start)));
  c.once('connect', () => onConnect(c));
  return { c, closed };
}

const REQUEST = 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

function scrape(port: number): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('a silent client, a slow sender and a non-reader are each cut off within their bound', async (t) => {
  const srv = await serve(t);
  const start = Date.now();
  const silent = client(srv.port);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const dribble = client(srv.port, (c) => {
    timer = setInterval(() => (sent < REQUEST.length - 1 ? c.write(REQUEST[sent++]!) : undefined), 1000);
  });
  t.teardown(() => clearInterval(timer));
  // The non-reader: asks for 16 MB and never reads. Its own end cannot see the server let go
  // (it reads nothing, so not the FIN either): the server's descriptors say it.
  const stalled = net.connect(srv.port, '127.0.0.1', () => stalled.write(REQUEST));
  stalled.on('error', () => undefined);
  stalled.once('data', () => stalled.pause());
  t.teardown(() => stalled.destroy());

  const [silentMs, dribbleMs] = await Promise.all([within(silent.closed, L.idleMs + SLACK_MS), within(dribble.closed, L.headersMs + L.checkMs + 1000 + SLACK_MS)]);
  clearInterval(timer);
  t.not(silentMs, null, `sends nothing: cut off ${silentMs === null ? 'not within the bound' : `after ${silentMs} ms`} (idle bound ${L.idleMs} ms)`);
  t.not(dribbleMs, null, `a header byte a second: cut off ${dribbleMs === null ? 'not within the bound' : `after ${dribbleMs} ms`}, ${sent} bytes sent (headers bound ${L.headersMs} ms; the first byte after 1 s)`);
  silent.c.destroy();
  dribble.c.destroy();
  const letGo = await serverLetGo(srv.port, start, L.responseMs + SLACK_MS);
  t.not(letGo, null, `never reads its answer: the server holds no socket for it ${letGo === null ? 'not within the bound' : `after ${letGo} ms`} (answer bound ${L.responseMs} ms)`);
  t.same(await scrape(srv.port), { status: 200, bytes: BIG.length }, 'a normal scrape then gets the whole answer');
});

/**
 * Opens `n` silent connections to port in a child process (so their cost is not this loop's);
 * resolves with each one's ms until the server closed it, those still open after `giveUpMs` left out.
 */
function silentClients(port: number, n: number, giveUpMs: number): Promise<number[]> {
  const script = `
    const net = require('node:net');
    const times = [];
    let open = ${n};
    for (let i = 0; i < ${n}; i++) {
      const c = net.connect(${port}, '127.0.0.1');
      const start = Date.now();
      c.on('error', () => {});
      c.once('close', () => { times.push(Date.now() - start); if (--open === 0) process.stdout.write(JSON.stringify(times)); });
    }
    setTimeout(() => { process.stdout.write(JSON.stringify(times)); process.exit(0); }, ${giveUpMs}).unref();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`clients exited ${code}`))));
  });
}

t.test('200 silent clients: at most maxConnections descriptors, the loop keeps its pace, then a scrape answers', async (t) => {
  const srv = await serve(t);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  // A heartbeat-like timer: every 10 ms, how late it fires.
  let lastBeat = performance.now();
  let worstGap = 0;
  const beat = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - lastBeat);
    lastBeat = now;
  }, 10);
  // Past maxConnections node:http accepts a connection and closes it in the same turn of its
  // loop; on a loaded machine a sample can catch a few of those between the two. What must stay
  // bounded is what is held: sockets seen in two samples 50 ms apart.
  let peak = 0;
  let peakHeld = 0;
  let previous = new Set<string>();
  const sampler = setInterval(() => {
    const now = serverSockets(srv.port);
    peak = Math.max(peak, now.size);
    peakHeld = Math.max(peakHeld, [...now].filter((i) => previous.has(i)).length);
    previous = now;
  }, 50);
  const stop = () => {
    clearInterval(beat);
    clearInterval(sampler);
    delay.disable();
  };
  t.teardown(stop);
  delay.enable();
  const times = await silentClients(srv.port, 200, L.idleMs + SLACK_MS);
  stop();
  const held = times.filter((ms) => ms >= L.idleMs / 2).length;
  t.comment(`200 clients: ${held} held until the idle bound, ${200 - held} closed at once; server descriptors at most ${peakHeld} held, ${peak} in any one sample`);
  t.comment(`event loop delay while they connected and were cut off: p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms; 10 ms timer's worst gap ${worstGap.toFixed(1)} ms`);
  t.equal(times.length, 200, 'every client was closed by the server within the idle bound');
  t.ok(peakHeld <= L.maxConnections, `never more than ${L.maxConnections} server descriptors held (peak ${peakHeld}; ${peak} in one sample, refused ones included)`);
  t.ok(Math.max(...times) <= L.idleMs + SLACK_MS, `every client cut off within the idle bound (last after ${Math.max(...times)} ms)`);
  t.ok(held <= L.maxConnections, `only ${L.maxConnections} were ever served (${held})`);
  // Generous: on a loaded 2-core machine an idle loop alone sees 100-200 ms now and then.
  t.ok(delay.max / 1e6 < 1000, 'the event loop was never blocked for a second');
  t.ok(worstGap < 1000, 'a 10 ms timer never waited a second');
  t.equal((await scrape(srv.port)).status, 200, 'then a scrape answers');
});
