/**
 * The attacker: runs inside a lab host that is not a director (a real server on the same
 * bridge) and sends hostile datagrams to a director's heartbeat port from its own address.
 * It never knows the cluster key. Modes, each printing one JSON summary line on exit:
 *
 *   forge  --to IP [--port 694] --count N [--rate R] [--cluster lab] [--node d1] [--group web]
 *          heartbeats built with the real encoder under a random key, claiming to be --node,
 *          active with priority 255 and a bootId far in the future.
 *   tamper --to IP --file HEX --count N [--rate R]
 *          captured valid heartbeats (one hex datagram per line) with state and priority of
 *          their first group rewritten to active/255; the MAC no longer matches.
 *   replay --to IP --file HEX [--times K] [--rate R]
 *          captured valid heartbeats sent again, byte for byte, K times over.
 *   flood  --to IP --rate R --seconds S [--seed N] [--cluster lab]
 *          garbage of several kinds (random bytes, our magic with junk, other versions,
 *          sizes around the limits, well-formed but signed with a wrong key).
 *   holder --to IP --key FILE --node N --count N [--rate R] [--boot-ahead-ms MS]
 *          [--state standby] [--priority 100] [--group web]
 *          the one mode that knows the key: valid heartbeats as a key holder would send
 *          them, naming any node, with a bootId MS ahead of the wall clock (default 0). Run
 *          it in a director's namespace to send from that director's address.
 *
 * The summary holds what was sent and, per drop reason, what the director should count:
 * each datagram is classified with the real decoder under a key that is not the cluster's,
 * which is what the director's decoder sees too (a MAC match by chance is 2^-128).
 *
 *   node dist/test/netns/attacker.js flood --to 198.51.100.10 --rate 20000 --seconds 5
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { decode, encode } from '../../src/wire/codec.js';
import type { DropReason, Message } from '../../src/wire/types.js';

export interface AttackSummary {
  mode: string;
  /** datagrams the kernel accepted from us. */
  sent: number;
  sendErrors: number;
  /** what the target's decoder should answer, by reason, for the datagrams sent. */
  expected: Partial<Record<DropReason | 'accepted', number>>;
  ms: number;
}

/** Deterministic PRNG (mulberry32): a flood is repeatable from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fill(rand: () => number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

const between = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

export function forgedMessage(cluster: string, node: string, group: string, seq: bigint): Message {
  return {
    type: 'heartbeat',
    cluster,
    node,
    // Far in the future: if it were ever accepted it would lock the real node out as old-boot.
    bootId: BigInt(Date.now()) * 1000n,
    seq,
    intervalMs: 50,
    groups: [{ name: group, state: 'active', priority: 255, reach: 255 }],
  };
}

/**
 * A captured heartbeat with its first group claimed active at priority 255 (layout in
 * docs/protocol.md); null when the datagram has no group. The MAC is left as it was.
 */
export function tamper(datagram: Buffer): Buffer | null {
  const b = Buffer.from(datagram);
  const c = b[5] ?? 0;
  const n = b[6 + c] ?? 0;
  const countAt = 6 + c + 1 + n + 8 + 8 + 4;
  if ((b[countAt] ?? 0) === 0) return null;
  const nameLen = b[countAt + 1] ?? 0;
  const stateAt = countAt + 2 + nameLen;
  if (stateAt + 1 >= b.length - 16) return null;
  b[stateAt] = 2;
  b[stateAt + 1] = 255;
  return b;
}

/** One garbage datagram of a kind picked by rand; sizes stay unfragmented (<= 1472). */
export function garbage(rand: () => number, cluster: string, wrongKey: Buffer): Buffer {
  const kind = Math.floor(rand() * 6);
  switch (kind) {
    case 0: // random bytes, any size: mostly bad-magic, some truncated or oversized
      return fill(rand, between(rand, 1, 1472));
    case 1: // too short to hold a heartbeat
      return fill(rand, between(rand, 1, 45));
    case 2: // larger than any heartbeat
      return Buffer.concat([Buffer.from('HA\x01\x01'), fill(rand, between(rand, 1397, 1468))]);
    case 3: { // our magic and version, junk after: only the MAC can tell
      const b = fill(rand, between(rand, 46, 1400));
      b.write('HA\x01', 0, 'latin1');
      return b;
    }
    case 4: { // another protocol version
      const b = fill(rand, between(rand, 46, 600));
      b.write('HA', 0, 'latin1');
      b[2] = between(rand, 2, 255);
      return b;
    }
    default: { // well-formed, signed with a key that is not the cluster's, then one byte flipped
      const msg = forgedMessage(cluster, `n${between(rand, 0, 99)}`, 'web', BigInt(between(rand, 1, 1e9)));
      const b = encode(msg, wrongKey);
      b[between(rand, 0, b.length - 1)] ^= 1 + Math.floor(rand() * 255);
      return b;
    }
  }
}

/** What a decoder without the sender's key answers for b. */
export function classify(b: Buffer, cluster: string, key: Buffer): DropReason | 'accepted' {
  const r = decode(b, key, cluster);
  return r.ok ? 'accepted' : r.reason;
}

export interface Outgoing {
  data: Buffer;
  /** what the target should answer for it (counted only once the kernel took it). */
  verdict: DropReason | 'accepted';
}

/**
 * Sends datagrams from next() to host:port at about `rate` per second (in small batches on
 * each turn of the event loop), until next() returns null or maxMs passes. `expected` counts
 * the verdicts of the datagrams actually sent.
 */
export function sendPaced(
  sock: dgram.Socket,
  to: { host: string; port: number },
  rate: number,
  next: () => Outgoing | null,
  maxMs: number,
  expected: AttackSummary['expected'],
): Promise<{ sent: number; sendErrors: number; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let started = 0;
    let sent = 0;
    let sendErrors = 0;
    let exhausted = false;
    const done = (): void => {
      if (exhausted && sent + sendErrors === started) resolve({ sent, sendErrors, ms: performance.now() - t0 });
    };
    const tick = (): void => {
      const elapsed = performance.now() - t0;
      const due = Math.floor((rate * elapsed) / 1000) + 1;
      for (let batch = 0; started < due && batch < 1000; batch++) {
        const item = elapsed < maxMs ? next() : null;
        if (item === null) {
          exhausted = true;
          return done();
        }
        started++;
        sock.send(item.data, to.port, to.host, (err) => {
          if (err) sendErrors++;
          else {
            sent++;
            expected[item.verdict] = (expected[item.verdict] ?? 0) + 1;
          }
          done();
        });
      }
      setImmediate(tick);
    };
    tick();
  });
}

function hexLines(file: string): Buffer[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => Buffer.from(l.trim(), 'hex'));
}

type Values = Record<string, string | undefined>;

/** The datagram source of a mode, each datagram with the verdict the target should reach. */
function source(mode: string, v: Values): () => Outgoing | null {
  const cluster = v.cluster ?? 'lab';
  const probeKey = randomBytes(32); // stands for "a key that is not the cluster's"
  const signKey = randomBytes(32);
  const count = Number(v.count ?? '0');
  let i = 0;
  const judged = (data: Buffer): Outgoing => ({ data, verdict: classify(data, cluster, probeKey) });
  if (mode === 'forge') {
    return () => (i++ < count ? judged(encode(forgedMessage(cluster, v.node ?? 'd1', v.group ?? 'web', BigInt(i)), signKey)) : null);
  }
  if (mode === 'tamper' || mode === 'replay') {
    const captured = hexLines(required(v.file, '--file'));
    const base = mode === 'tamper' ? captured.map(tamper).filter((b): b is Buffer => b !== null) : captured;
    const total = mode === 'tamper' ? count : base.length * Number(v.times ?? '1');
    // Only the key holder can tell a replay from an old boot: a replay is listed as 'accepted'
    // here ("valid as captured") and the test says which reason the target must count.
    const pick = (): Outgoing => (mode === 'tamper' ? judged(base[i++ % base.length]!) : { data: base[i++ % base.length]!, verdict: 'accepted' });
    return () => (base.length > 0 && i < total ? pick() : null);
  }
  if (mode === 'holder') {
    const key = Buffer.from(readFileSync(required(v.key, '--key'), 'utf8').trim(), 'hex');
    const bootId = BigInt(Date.now() + Number(v['boot-ahead-ms'] ?? '0'));
    const state = (v.state ?? 'standby') as Message['groups'][number]['state'];
    const groups = [{ name: v.group ?? 'web', state, priority: Number(v.priority ?? '100'), reach: 0 }];
    // Listed as 'accepted': a valid datagram; the test says what the target must make of it.
    const build = (seq: bigint): Outgoing => ({ data: encode({ type: 'heartbeat', cluster, node: required(v.node, '--node'), bootId, seq, intervalMs: 50, groups }, key), verdict: 'accepted' });
    return () => (i < count ? build(BigInt(++i)) : null);
  }
  if (mode === 'flood') {
    const rand = prng(Number(v.seed ?? '1'));
    return () => judged(garbage(rand, cluster, signKey));
  }
  throw new Error(`unknown mode ${mode}`);
}

function required(x: string | undefined, name: string): string {
  if (x === undefined) throw new Error(`${name} is required`);
  return x;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      to: { type: 'string' }, port: { type: 'string', default: '694' }, count: { type: 'string' },
      rate: { type: 'string', default: '1000' }, seconds: { type: 'string' }, seed: { type: 'string' },
      cluster: { type: 'string' }, node: { type: 'string' }, group: { type: 'string' },
      file: { type: 'string' }, times: { type: 'string' },
      key: { type: 'string' }, 'boot-ahead-ms': { type: 'string' }, state: { type: 'string' }, priority: { type: 'string' },
    },
  });
  const mode = positionals[0] ?? '';
  const expected: AttackSummary['expected'] = {};
  const next = source(mode, values);
  // A flood ends by time; the others by count, with a generous time bound.
  const maxMs = mode === 'flood' ? Number(required(values.seconds, '--seconds')) * 1000 : 60_000;
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => undefined); // per-send errors arrive in the send callbacks
  const to = { host: required(values.to, '--to'), port: Number(values.port) };
  const r = await sendPaced(sock, to, Number(values.rate), next, maxMs, expected);
  sock.close();
  const summary: AttackSummary = { mode, ...r, expected };
  process.stdout.write(JSON.stringify(summary) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`attacker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(64);
  });
}
