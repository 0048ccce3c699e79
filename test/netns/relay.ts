/**
 * Lossy UDP relay between two directors, for the bench's loss row (this kernel has no netem,
 * no prio qdisc, no tc filters, no nftables/iptables: loss has to be made in userspace).
 * It runs in the lab's switch namespace with two addresses of its own on the bridge:
 *
 *   --listen0 A   "d1 as d0 sees it": d0 is configured with A as its peer; datagrams from
 *                 --peer0 arriving at A:port go out from B:port to --peer1:port
 *   --listen1 B   "d0 as d1 sees it": the reverse, from --peer1 at B:port, out from A:port
 *                 to --peer0:port
 *
 * So each director hears its peer from exactly the address and port it sends to (haagent's
 * per-peer sockets are connected: that matters). Datagrams from anyone else are counted as
 * foreign and dropped. Each forwarded datagram is dropped or delayed as loss.ts decides
 * (netem-like: --loss P, delay --base MS +- --jitter MS), one seeded stream per direction
 * (--seed S for d0 -> d1, S + 1 for d1 -> d0). Prints "ready" once both sockets are bound.
 * SIGUSR2 resets the counters and restarts both streams (the start of a measurement window:
 * the window's n-th datagram meets the same fate in every run); SIGTERM/SIGINT write the
 * RelaySummary JSON (counters, delays, the send time of every forwarded datagram) to --out
 * (atomically) and exit.
 *
 *   node dist/test/netns/relay.js --listen0 198.51.100.40 --listen1 198.51.100.41 \
 *     --peer0 198.51.100.10 --peer1 198.51.100.11 --port 694 --out FILE [--loss 0.1] [--base 5] [--jitter 5] [--seed 1]
 */
import dgram, { type Socket } from 'node:dgram';
import { renameSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { epochNow } from './exec.js';
import { checkModel, fates, type DirectionStats, type LossModel, type RelaySummary } from './loss.js';

interface Tally {
  received: number;
  forwarded: number;
  dropped: number;
  foreign: number;
  sendErrors: number;
  delayMin: number;
  delayMax: number;
  delaySum: number;
  lateMax: number;
  sentAt: number[];
}

const fresh = (): Tally => ({ received: 0, forwarded: 0, dropped: 0, foreign: 0, sendErrors: 0, delayMin: Infinity, delayMax: -Infinity, delaySum: 0, lateMax: 0, sentAt: [] });

function stats(t: Tally): DirectionStats {
  const any = t.forwarded > 0;
  return {
    received: t.received, forwarded: t.forwarded, dropped: t.dropped, foreign: t.foreign, sendErrors: t.sendErrors,
    delayMinMs: any ? t.delayMin : null,
    delayMaxMs: any ? t.delayMax : null,
    delayMeanMs: any ? t.delaySum / t.forwarded : null,
    lateMaxMs: any ? t.lateMax : null,
    sentAt: t.sentAt,
  };
}

function fail(why: string): never {
  process.stderr.write(`relay: ${why}\n`);
  process.exit(64);
}

function main(): void {
  const { values: v } = parseArgs({
    options: {
      listen0: { type: 'string' }, listen1: { type: 'string' }, peer0: { type: 'string' }, peer1: { type: 'string' },
      port: { type: 'string', default: '694' }, out: { type: 'string' },
      loss: { type: 'string', default: '0.1' }, base: { type: 'string', default: '5' }, jitter: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
    },
  });
  const { listen0, listen1, peer0, peer1, out } = v;
  if (!listen0 || !listen1 || !peer0 || !peer1 || !out) fail('--listen0, --listen1, --peer0, --peer1 and --out are required');
  const port = Number(v.port);
  const seed = Number(v.seed);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(seed)) fail('--port and --seed must be integers');
  let model: LossModel;
  try {
    model = checkModel({ loss: Number(v.loss), baseMs: Number(v.base), jitterMs: Number(v.jitter) });
  } catch (err) {
    fail((err as Error).message);
  }
  const x = dgram.createSocket('udp4');
  const y = dgram.createSocket('udp4');
  const tally = { '0to1': fresh(), '1to0': fresh() };
  let since = epochNow();
  const pending = new Set<NodeJS.Timeout>();

  // One seeded stream per direction, restarted with the counters: the n-th datagram of a
  // window meets the same fate whenever that window starts.
  const streams = (): Record<'0to1' | '1to0', ReturnType<typeof fates>> => ({ '0to1': fates(model, seed), '1to0': fates(model, seed + 1) });
  let next = streams();

  /** Datagrams at `from` sent by `sender` go out of `via` to `to`, their fates drawn from next[dir]. */
  const relay = (from: Socket, via: Socket, sender: string, to: string, dir: '0to1' | '1to0'): void => {
    from.on('message', (msg, rinfo) => {
      const t = tally[dir];
      if (rinfo.address !== sender) {
        t.foreign++;
        return;
      }
      t.received++;
      const f = next[dir]();
      if (f.drop) {
        t.dropped++;
        return;
      }
      const due = epochNow() + f.delayMs;
      const timer = setTimeout(() => {
        pending.delete(timer);
        const late = Math.max(0, epochNow() - due);
        via.send(msg, port, to, (err) => {
          // the tally may have been reset meanwhile: count into the current one
          const now = tally[dir];
          if (err) now.sendErrors++;
          else {
            now.forwarded++;
            now.sentAt.push(epochNow());
            now.delayMin = Math.min(now.delayMin, f.delayMs);
            now.delayMax = Math.max(now.delayMax, f.delayMs);
            now.delaySum += f.delayMs;
            now.lateMax = Math.max(now.lateMax, late);
          }
        });
      }, f.delayMs);
      pending.add(timer);
    });
    from.on('error', (err) => process.stderr.write(`relay: ${dir}: ${err.message}\n`));
  };
  relay(x, y, peer0, peer1, '0to1');
  relay(y, x, peer1, peer0, '1to0');

  let bound = 0;
  const ready = (): void => {
    if (++bound === 2) process.stdout.write('ready\n');
  };
  x.bind(port, listen0, ready);
  y.bind(port, listen1, ready);

  process.on('SIGUSR2', () => {
    tally['0to1'] = fresh();
    tally['1to0'] = fresh();
    next = streams();
    since = epochNow();
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const timer of pending) clearTimeout(timer);
    const summary: RelaySummary = { model, seed, since, stoppedAt: epochNow(), directions: { '0to1': stats(tally['0to1']), '1to0': stats(tally['1to0']) } };
    writeFileSync(`${out}.tmp`, JSON.stringify(summary));
    renameSync(`${out}.tmp`, out);
    x.close();
    y.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
