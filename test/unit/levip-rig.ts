/**
 * The core with LevIP groups, driven by hand: every input carries the monotonic `now` and the
 * `wall` time, every action is recorded with the wall time of its step, and the results of
 * the actions are fed straight back (ok, or failed on demand), as the driver does. Peers are
 * heartbeats the test feeds; a verified ICMP error kills one at once.
 */
import type { LevipGroupConfig } from '../../src/config/vip-device.js';
import { Core } from '../../src/core/election.js';
import type { Action, Input, StepResult } from '../../src/core/types.js';
import type { GroupState, Message } from '../../src/wire/types.js';

export const PERIOD = 500;
export const GUARD = 50;
export const REPEAT = 125;
/** A slot boundary (a multiple of the period), so slot arithmetic stays readable. */
export const T0 = 1_700_000_000_000;
export const K0 = T0 / PERIOD;
/** Peers stay alive between the heartbeats a test feeds (a kill is a verified ICMP error). */
const DEAD_TIME = 3_600_000;

export function cfg(name = 'web', iface = 'eth0', timing: Partial<LevipGroupConfig['levip']> = {}): LevipGroupConfig {
  return {
    name,
    mode: 'levip',
    levip: { period: PERIOD, guard: GUARD, repeat: REPEAT, weight: 1, ...timing },
    vip: { address: name === 'web' ? '198.51.100.100' : '198.51.100.101', prefix: 32, family: 4 },
    interface: iface,
    priority: 100,
    preempt: true,
    preemptDelay: 0,
    garp: { count: 3, spacing: 20, form: 'both', refresh: 0 },
  };
}

export interface Done {
  /** wall time of the step that asked for it. */
  at: number;
  action: Action;
}

type Unstamped = Input extends infer I ? (I extends { now: number } ? Omit<I, 'now' | 'wall'> : never) : never;

export class LevRig {
  readonly core: Core;
  /** monotonic ms. */
  mono = 0;
  /** wall minus monotonic: change it to step the wall clock. */
  offset = T0;
  readonly done: Done[] = [];
  readonly results: StepResult[] = [];
  /** the next answering switches fail with this error. */
  failAnswers = 0;
  answerError = 'EIO';
  /** only the switches of this interface fail (default: any). */
  failIface: string | null = null;
  /** unsolicited replies fail with this error while set. */
  announceError: string | null = null;
  /** feed the inputs without their wall time (the core keeps the last offset). */
  dropWall = false;
  private seq = 0n;

  constructor(
    readonly node = 'b',
    groups: LevipGroupConfig[] = [cfg()],
    /** our heartbeat interval: the core wakes for it too. */
    interval = 1000,
  ) {
    this.core = new Core({ node, interval, deadTime: DEAD_TIME, initDead: 0, expectedPeers: 0, groups });
  }

  get wall(): number {
    return this.mono + this.offset;
  }

  /** Starts at wall time `wall`; the shared IPs are confirmed on lo in the same instant. */
  start(wall = T0): void {
    this.mono = wall - this.offset;
    this.feed({ kind: 'start' });
  }

  /** One input at the current time, then the results of its actions, as the driver feeds them. */
  feed(input: Unstamped): StepResult {
    const queue: Input[] = [this.stamp(input)];
    let first: StepResult | null = null;
    for (let i = 0; i < queue.length && i < 10_000; i++) {
      const r = this.core.step(queue[i]!);
      first ??= r;
      this.results.push(r);
      for (const a of r.actions) {
        this.done.push({ at: this.wall, action: a });
        const out = this.perform(a);
        if (out) queue.push(this.stamp(out));
      }
    }
    return first!;
  }

  /** Ticks at every deadline the core asks for up to wall time `to`; the clock ends at `to`. */
  advance(to: number): void {
    for (let i = 0; i < 100_000; i++) {
      const wake = this.results.at(-1)?.wakeAt ?? null;
      if (wake === null || wake + this.offset > to) break;
      this.mono = Math.max(this.mono, wake);
      this.feed({ kind: 'tick' });
    }
    this.mono = to - this.offset;
  }

  /** A heartbeat from `node`: a member with `weight`, or in `state` (priority 0 unless a member). */
  hear(node: string, weight: number | null, boot = 1n, groups = this.core.groups.map((g) => g.name), state: GroupState = weight === null ? 'standby' : 'active'): void {
    const msg: Message = { type: 'heartbeat', cluster: 'c', node, bootId: boot, seq: ++this.seq, intervalMs: DEAD_TIME, groups: groups.map((name) => ({ name, state, priority: weight ?? 0, reach: 0 })) };
    this.feed({ kind: 'message', msg, address: addressOf(node), port: 694 });
  }

  /** `node`'s host refused our heartbeat: dead at once (unheard, not left on purpose). */
  kill(node: string): void {
    this.feed({ kind: 'unreachable', address: addressOf(node), verified: true });
  }

  /** The actions of one kind, with the wall time of their step. */
  of<K extends Action['kind']>(kind: K): { at: number; action: Extract<Action, { kind: K }> }[] {
    return this.done.filter((d) => d.action.kind === kind) as { at: number; action: Extract<Action, { kind: K }> }[];
  }

  /** The wall times of the unsolicited replies asked for. */
  replies(): number[] {
    return this.of('announce').map((d) => d.at);
  }

  /** The answering switches asked for, as "ms since T0:on|off". */
  switches(): string[] {
    return this.of('levipAnswer').map((d) => `${d.at - T0}:${d.action.on ? 'on' : 'off'}`);
  }

  private stamp(input: Unstamped): Input {
    return (this.dropWall ? { ...input, now: this.mono } : { ...input, now: this.mono, wall: this.wall }) as Input;
  }

  private perform(a: Action): Unstamped | null {
    switch (a.kind) {
      case 'ensureVip':
        return { kind: 'vipResult', group: a.group, gid: a.gid, present: a.present, ok: true };
      case 'announce':
        return { kind: 'announceResult', group: a.group, gid: a.gid, sent: this.announceError ? 0 : 1, errors: this.announceError ? [this.announceError] : [] };
      case 'levipAnswer': {
        const fail = this.failAnswers > 0 && (this.failIface === null || this.failIface === a.iface);
        if (fail) this.failAnswers--;
        return fail ? { kind: 'levipAnswerResult', iface: a.iface, on: a.on, ok: false, error: this.answerError } : { kind: 'levipAnswerResult', iface: a.iface, on: a.on, ok: true };
      }
      default:
        return null;
    }
  }
}

function addressOf(node: string): string {
  return `198.51.100.${10 + node.charCodeAt(0) - 'a'.charCodeAt(0)}`;
}
