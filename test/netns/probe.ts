/**
 * Probe: runs in the client namespace. Modes:
 *   run  --vip IP --out FILE [--duration MS] [--interval 2] [--tcp] [--tcp-interval 10]
 *        UDP request to VIP:7000 every interval (seq + timestamp), every reply recorded;
 *        optional TCP connects to VIP:7001; the VIP's ARP entry polled every ~2 ms and each
 *        change recorded. Stops after --duration or on SIGTERM/SIGINT, then writes the
 *        ProbeResult JSON to FILE (atomically). Prints "ready" once it is sending.
 *   ping --to IP [--count 3] [--timeout 300]   UDP echo round trips; prints JSON.
 *   arp  --ip IP                                 prints the ARP entry as JSON (or null).
 * Times are epoch ms from performance.timeOrigin + performance.now(): comparable across processes.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ArpChange, ProbeReply, ProbeResult, TcpAttempt } from './analyze.js';
import { lookupArp, readArpTable } from './arptable.js';
import { epochNow, paced } from './exec.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    vip: { type: 'string' },
    to: { type: 'string' },
    ip: { type: 'string' },
    out: { type: 'string' },
    duration: { type: 'string', default: '600000' },
    interval: { type: 'string', default: '2' },
    port: { type: 'string', default: '7000' },
    tcp: { type: 'boolean', default: false },
    'tcp-port': { type: 'string', default: '7001' },
    'tcp-interval': { type: 'string', default: '10' },
    count: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '300' },
  },
});

function runProbe(): void {
  const vip = values.vip;
  const out = values.out;
  if (!vip || !out) usage('run needs --vip and --out');
  const result: ProbeResult = {
    vip, intervalMs: Number(values.interval), startedAt: epochNow(), stoppedAt: 0,
    sentAt: [], replies: [], arp: [], tcp: [], sendErrors: 0,
  };
  const udp = udpLoop(vip, Number(values.port), result);
  const arp = watchArp(vip, result.arp);
  const tcp = values.tcp ? tcpLoop(vip, Number(values['tcp-port']), Number(values['tcp-interval']), result.tcp) : null;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    udp.stop();
    arp.stop();
    tcp?.stop();
    // A short grace lets replies already on the wire land.
    setTimeout(() => {
      result.stoppedAt = epochNow();
      udp.close();
      writeFileSync(`${out}.tmp`, JSON.stringify(result));
      renameSync(`${out}.tmp`, out);
      process.exit(0);
    }, 30);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setTimeout(stop, Number(values.duration));
}

/** Sends "seq sentAt" to vip:port every result.intervalMs and records every reply. */
function udpLoop(vip: string, port: number, result: ProbeResult): { stop(): void; close(): void } {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg) => {
    const recvAt = epochNow();
    const [by, seqText] = msg.toString().split(' ');
    const seq = Number(seqText);
    if (Number.isInteger(seq) && seq >= 0 && seq < result.sentAt.length) {
      result.replies.push({ seq, sentAt: result.sentAt[seq], recvAt, by } satisfies ProbeReply);
    }
  });
  sock.on('error', () => result.sendErrors++);
  let stopSending = (): void => undefined;
  sock.bind(0, () => {
    stopSending = paced(result.intervalMs, (now) => {
      const seq = result.sentAt.length;
      result.sentAt.push(now);
      sock.send(`${seq} ${now.toFixed(3)}`, port, vip, (err) => {
        if (err) result.sendErrors++;
      });
    });
    process.stdout.write('ready\n');
  });
  return { stop: () => stopSending(), close: () => sock.close() };
}

/** Polls the VIP's neighbour entry every ~2 ms; records each change of its MAC. */
function watchArp(vip: string, changes: ArpChange[]): { stop(): void } {
  let last: string | null | undefined;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    readArpTable()
      .then((table) => {
        const e = table.find((x) => x.ip === vip);
        const mac = e && e.mac !== '00:00:00:00:00:00' ? e.mac : null;
        if (mac !== last) changes.push({ at: epochNow(), mac });
        last = mac;
      })
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 2);
  return { stop: () => clearInterval(timer) };
}

/** A TCP connect to VIP:port every intervalMs, at most 8 in flight, each bounded to 250 ms. */
function tcpLoop(vip: string, port: number, intervalMs: number, attempts: TcpAttempt[]): { stop(): void } {
  let inFlight = 0;
  let seq = 0;
  const timer = setInterval(() => {
    if (inFlight >= 8) return;
    inFlight++;
    const a: TcpAttempt = { seq: seq++, startAt: epochNow(), endAt: 0, ok: false, by: null };
    let data = '';
    const s = net.connect({ host: vip, port, timeout: 250 });
    const done = (error?: string): void => {
      if (a.endAt) return;
      a.endAt = epochNow();
      a.ok = !error && data.length > 0;
      a.by = data.trim() || null;
      if (error) a.error = error;
      attempts.push(a);
      inFlight--;
      s.destroy();
    };
    s.on('data', (b: Buffer) => (data += b.toString()));
    s.on('end', () => done());
    s.on('timeout', () => done('timeout'));
    s.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}

/** count sequential UDP echoes to IP:port; prints { sent, received, by }. */
function runPing(): void {
  const to = values.to;
  if (!to) usage('ping needs --to');
  const count = Number(values.count);
  const timeoutMs = Number(values.timeout);
  const sock = dgram.createSocket('udp4');
  const by: string[] = [];
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    if (sent >= count) {
      process.stdout.write(JSON.stringify({ sent, received: by.length, by }) + '\n');
      sock.close();
      return;
    }
    sent++;
    sock.send(`${sent} ping`, Number(values.port), to, () => undefined);
    timer = setTimeout(next, timeoutMs);
  };
  sock.on('message', (msg) => {
    const [name, seq] = msg.toString().split(' ');
    if (Number(seq) !== sent) return; // a late echo of an earlier round
    by.push(name);
    clearTimeout(timer);
    next();
  });
  sock.on('error', () => undefined);
  sock.bind(0, next);
}

function usage(why: string): never {
  process.stderr.write(`probe: ${why}\nusage: probe.js run|ping|arp ...\n`);
  process.exit(64);
}

const mode = positionals[0] ?? 'run';
if (mode === 'run') runProbe();
else if (mode === 'ping') runPing();
else if (mode === 'arp') {
  if (!values.ip) usage('arp needs --ip');
  lookupArp(values.ip).then((e) => process.stdout.write(JSON.stringify(e) + '\n'));
} else usage(`unknown mode ${mode}`);
