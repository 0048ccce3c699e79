/**
 * Duplicate address detection over iputils `arping -D` (the ConflictDetector port): one
 * request from 0.0.0.0 asking who has the VIP, answers collected for one second. Our own
 * kernel does not answer its own broadcast, so every answer is another host. Exit codes of
 * `-D`: 1 when somebody answered, 0 when nobody did; anything else (2: a bad interface, a
 * missing binary, a kill at the time bound) says nothing about the segment and is an error.
 */
import type { Millis, Vip } from '../config/types.js';
import type { CommandRunner, ConflictDetector, DetectOutcome } from '../ports/index.js';
import { describeResult } from './runner.js';

export interface ArpReply {
  ip: string;
  mac: string;
}

/** One reply line of iputils arping: `Unicast reply from IP [MAC]  0.531ms` (or Broadcast). */
export interface ArpingReplyLine extends ArpReply {
  /** Unicast: the reply came to our MAC; Broadcast: to everyone. */
  unicast: boolean;
  /** the round trip arping printed; null when the line has none. */
  ms: number | null;
}

const REPLY_RE = /^(Unicast|Broadcast) reply from (\S+) \[([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})\](?:\s+([0-9.]+)\s*ms)?/;

/** Every reply line of arping's output, in order. */
export function arpingReplyLines(stdout: string): ArpingReplyLine[] {
  const out: ArpingReplyLine[] = [];
  for (const line of stdout.split('\n')) {
    const m = REPLY_RE.exec(line.trim());
    if (m) out.push({ ip: m[2]!, mac: m[3]!.toLowerCase(), unicast: m[1] === 'Unicast', ms: m[4] === undefined ? null : Number(m[4]) });
  }
  return out;
}

/** The replies in iputils arping's output, in order (one entry per reply line). */
export function parseArpingReplies(stdout: string): ArpReply[] {
  return arpingReplyLines(stdout).map(({ ip, mac }) => ({ ip, mac }));
}

export interface ArpingDetectorOptions {
  arpingPath: string;
  /** bound of one run: the one-second deadline plus room for a loaded host. */
  runTimeout: Millis;
}

export class ArpingDetector implements ConflictDetector {
  constructor(
    private readonly runner: CommandRunner,
    private readonly opts: ArpingDetectorOptions,
  ) {}

  async detect(vip: Vip, iface: string): Promise<DetectOutcome> {
    if (vip.family !== 4) return { macs: [], error: 'arping probes IPv4 only' };
    const argv = [this.opts.arpingPath, '-D', '-c', '1', '-w', '1', '-I', iface, vip.address];
    const r = await this.runner.run(argv, this.opts.runTimeout);
    if (r.code === 0 && !r.timedOut) return { macs: [] };
    if (r.code === 1 && !r.timedOut) return { macs: [...new Set(parseArpingReplies(r.stdout).map((x) => x.mac))] };
    return { macs: [], error: describeResult(argv, r) };
  }
}
