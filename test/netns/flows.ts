/**
 * Flow probe: runs in the BGP lab's client namespace. Like `probe run`, but over many UDP
 * sockets, each bound to its own source port, so that a router hashing on the L4 header
 * (fib_multipath_hash_policy=1) spreads them over its next hops:
 *
 *   flows --to IP --out FILE [--flows 64] [--interval 1] [--port 7000] [--duration MS]
 *
 * Every interval one datagram "seq sentAt" leaves, on the flows in turn (flow = seq % flows).
 * The responder's answer "name seq sentAt" names the director that got it. On SIGTERM (or
 * after --duration) the FlowResult is written to FILE; "ready" is printed once sending.
 */
import dgram from 'node:dgram';
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ProbeResult } from './analyze.js';
import { epochNow, paced } from './exec.js';

/** A ProbeResult (probe seq k left on flow k % flows) plus the flow count. */
export interface FlowResult extends ProbeResult {
  flows: number;
}

const { values } = parseArgs({
  options: {
    to: { type: 'string' },
    out: { type: 'string' },
    flows: { type: 'string', default: '64' },
    interval: { type: 'string', default: '1' },
    port: { type: 'string', default: '7000' },
    duration: { type: 'string', default: '600000' },
  },
});

const to = values.to;
const out = values.out;
const flows = Number(values.flows);
if (!to || !out || !Number.isInteger(flows) || flows < 1 || flows > 1024) {
  process.stderr.write('usage: flows --to IP --out FILE [--flows 1..1024] [--interval MS] [--port N] [--duration MS]\n');
  process.exit(64);
}

const result: FlowResult = {
  vip: to, intervalMs: Number(values.interval), startedAt: epochNow(), stoppedAt: 0,
  sentAt: [], replies: [], arp: [], tcp: [], sendErrors: 0, flows,
};

function onMessage(msg: Buffer): void {
  const recvAt = epochNow();
  const [by, seqText] = msg.toString().split(' ');
  const seq = Number(seqText);
  if (by && Number.isInteger(seq) && seq >= 0 && seq < result.sentAt.length) {
    result.replies.push({ seq, sentAt: result.sentAt[seq]!, recvAt, by });
  }
}

const sockets = Array.from({ length: flows }, () => {
  const s = dgram.createSocket('udp4');
  s.on('message', onMessage);
  s.on('error', () => result.sendErrors++);
  return s;
});

let bound = 0;
let stopSending = (): void => undefined;
let stopped = false;

function start(): void {
  const port = Number(values.port);
  stopSending = paced(result.intervalMs, (now) => {
    const seq = result.sentAt.length;
    result.sentAt.push(now);
    sockets[seq % flows]!.send(`${seq} ${now.toFixed(3)}`, port, to!, (err) => {
      if (err) result.sendErrors++;
    });
  });
  process.stdout.write('ready\n');
}

function stop(): void {
  if (stopped) return;
  stopped = true;
  stopSending();
  setTimeout(() => {
    result.stoppedAt = epochNow();
    for (const s of sockets) s.close();
    writeFileSync(`${out}.tmp`, JSON.stringify(result));
    renameSync(`${out}.tmp`, out!);
    process.exit(0);
  }, 50);
}

for (const s of sockets) s.bind(0, () => ++bound === flows && start());
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(values.duration));
