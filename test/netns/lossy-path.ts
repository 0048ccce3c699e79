/**
 * A lossy heartbeat path in a lab: the relay (relay.ts) in the switch namespace, holding two
 * addresses of its own on the bridge, so that d0 and d1 reach each other only through it.
 *
 *   d0 (198.51.100.10) --> 198.51.100.40 [relay] 198.51.100.41 --> d1 (198.51.100.11)
 *
 * 198.51.100.40 is "d1 as d0 sees it" and 198.51.100.41 "d0 as d1 sees it": configure each
 * director's agent with peers[i] (haagent heartbeat.peers, Heartbeat `ucast eth0 ADDR`).
 * The client keeps reaching both directors directly: only the directors' heartbeats cross
 * the relay. VRRP and CARP (IP protocol 112) are not UDP and cannot cross it.
 */
import { join } from 'node:path';
import { must } from './exec.js';
import type { Lab, LabProcess } from './lab.js';
import { stopForJson } from './proc.js';
import { DEFAULT_LOSS_MODEL, type LossModel, type RelaySummary } from './loss.js';

/** The relay's addresses: index i is what director i is told its peer is. */
export const RELAY_ADDRESSES = ['198.51.100.40', '198.51.100.41'] as const;

export interface LossyPath {
  proc: LabProcess;
  /** by director index: the peer address(es) its agent must be configured with. */
  peers: string[][];
  /** zero the relay's counters and restart its seeded streams: the start of a measurement window. */
  mark(): void;
  /** SIGTERM, wait for the summary file (bounded), parse it. */
  stop(): Promise<RelaySummary>;
}

export interface LossyPathOptions {
  model?: LossModel;
  seed?: number;
  /** the heartbeat port the agents use (haagent and Heartbeat default to 694). */
  port?: number;
}

/** Puts the relay between d0 and d1 of a two-director lab and waits for its "ready". */
export async function startLossyPath(lab: Lab, opts: LossyPathOptions = {}): Promise<LossyPath> {
  if (lab.directors.length !== 2) throw new Error('the lossy path joins exactly two directors');
  const m = opts.model ?? DEFAULT_LOSS_MODEL;
  const [d0, d1] = lab.directors;
  for (const a of RELAY_ADDRESSES) await must(['ip', '-n', lab.switchNs, 'addr', 'add', `${a}/24`, 'dev', 'br0']);
  const out = join(lab.dir, `relay-${RELAY_ADDRESSES.join('-')}.json`);
  const args = [
    '--listen0', RELAY_ADDRESSES[0], '--listen1', RELAY_ADDRESSES[1], '--peer0', d0.ip, '--peer1', d1.ip,
    '--port', String(opts.port ?? 694), '--out', out,
    '--loss', String(m.loss), '--base', String(m.baseMs), '--jitter', String(m.jitterMs), '--seed', String(opts.seed ?? 1),
  ];
  const proc = await lab.spawnScript('sw', 'relay', args);
  return {
    proc,
    peers: [[RELAY_ADDRESSES[0]], [RELAY_ADDRESSES[1]]],
    mark: () => void proc.kill('SIGUSR2'),
    stop: () => stopForJson<RelaySummary>(proc, out, 'relay'),
  };
}
