/**
 * The golden transcript: what every simulated agent's driver stepped on and did, one line per
 * step that mattered, with the world's events between them. Rendered for review: a change of
 * behaviour shows as a diff of these lines (test/scenarios/golden.test.ts).
 *
 *   TIME NODE INPUT => TRANSITIONS; ACTIONS      a step of one node's driver
 *   TIME -- EVENT                                 the world: kill, link, partition, the host's
 *                                                 addresses, the router's ARP entry, LevIP's
 *                                                 answering switch applied
 *   TIME NODE quiet until T: ...                  the steady state, compressed
 *
 * A step is quiet when it moves no group, asks for nothing but sends with the same content as
 * the node's last send shown, and its input is a timer tick, or a datagram or ICMP error the
 * same as the last one shown from that peer. Quiet steps are counted, not shown: a run of them
 * is one line, put where the run began (lines stay in time order); the run ends at the node's
 * next step shown and at every world event.
 */
import type { Action, Input, StepResult, Transition } from '../../src/core/types.js';
import type { WireGroup } from '../../src/wire/types.js';

interface Quiet {
  /** where its line goes in `lines`. */
  at: number;
  from: number;
  to: number;
  ticks: number;
  /** what came in and went out, by kind. */
  heard: Map<string, number>;
  sent: Map<string, number>;
}

const time = (ms: number): string => String(ms).padStart(6);

function groups(gs: readonly WireGroup[]): string {
  return gs.map((g) => `${g.name}:${g.state}/${g.priority}${g.reach > 0 ? `r${g.reach}` : ''}`).join(' ');
}

function tally(m: Map<string, number>, kind: string): void {
  m.set(kind, (m.get(kind) ?? 0) + 1);
}

function counts(m: Map<string, number>): string {
  return m.size === 0 ? 'nothing' : [...m].map(([k, n]) => `${n} ${k}`).join(', ');
}

function transition(t: Transition): string {
  return `${t.group} ${t.from}->${t.to} (${t.reason})`;
}

export class Transcript {
  private readonly lines: string[] = [];
  private readonly quiet = new Map<string, Quiet>();
  /** per node: the content of its last send shown. */
  private readonly said = new Map<string, string>();
  /** per "node<peer address": the last datagram or ICMP error from that peer shown at node. */
  private readonly heard = new Map<string, string>();

  constructor(
    private readonly now: () => number,
    /** the node name behind a peer address. */
    private readonly nameOf: (address: string) => string,
  ) {}

  /** A line above the transcript (what the scenario is). */
  header(text: string): void {
    this.lines.push(`# ${text}`);
  }

  /** An event of the world, not of an agent. */
  world(text: string): void {
    this.flush();
    this.lines.push(`${time(this.now())} -- ${text}`);
  }

  /** One step of `node`'s driver. */
  step(node: string, r: StepResult, input: Input): void {
    const from = input.kind === 'message' || input.kind === 'unreachable' ? `${node}<${input.address}` : null;
    const shown = this.input(input);
    const sends = r.actions.filter((a): a is Extract<Action, { kind: 'send' }> => a.kind === 'send');
    const saying = sends.map((a) => this.send(a));
    const quietInput = input.kind === 'tick' || (from !== null && this.heard.get(from) === shown);
    const quietOutput = r.transitions.length === 0 && sends.length === r.actions.length && saying.every((s) => s === this.said.get(node));
    if (quietInput && quietOutput) return this.count(node, input, sends);
    if (from !== null) this.heard.set(from, shown);
    if (saying.length > 0) this.said.set(node, saying[saying.length - 1]!);
    this.flushNode(node);
    const effects = [...r.transitions.map(transition), ...r.actions.map((a) => this.action(a))];
    this.lines.push(`${time(this.now())} ${node} ${shown} => ${effects.length > 0 ? effects.join('; ') : '-'}`);
  }

  /** Every pending quiet count, then the text. */
  text(): string {
    this.flush();
    return this.lines.join('\n') + '\n';
  }

  private count(node: string, input: Input, sends: readonly Extract<Action, { kind: 'send' }>[]): void {
    const now = this.now();
    let q = this.quiet.get(node);
    if (q === undefined) {
      q = { at: this.lines.length, from: now, to: now, ticks: 0, heard: new Map(), sent: new Map() };
      this.lines.push(''); // filled in by flushNode
      this.quiet.set(node, q);
    }
    q.to = now;
    if (input.kind === 'tick') q.ticks++;
    else tally(q.heard, input.kind === 'message' ? input.msg.type : 'icmp');
    for (const a of sends) tally(q.sent, a.type);
  }

  private flush(): void {
    for (const node of [...this.quiet.keys()]) this.flushNode(node);
  }

  private flushNode(node: string): void {
    const q = this.quiet.get(node);
    if (q === undefined) return;
    this.quiet.delete(node);
    this.lines[q.at] = `${time(q.from)} ${node} quiet until ${q.to}: ${q.ticks} ticks; in: ${counts(q.heard)}; out: ${counts(q.sent)}`;
  }

  private send(a: Extract<Action, { kind: 'send' }>): string {
    const skip = a.skip && a.skip.length > 0 ? ` (skip ${a.skip.map(this.nameOf).join(',')})` : '';
    return `${a.type} ${groups(a.groups)}${skip}`;
  }

  private action(a: Action): string {
    switch (a.kind) {
      case 'send':
        return `send ${this.send(a)}`;
      case 'ensureVip':
        return `vip ${a.present ? 'add' : 'remove'} ${a.group} ${a.vips.map((p) => `${p.vip.address} on ${p.iface}`).join(', ')}`;
      case 'announce':
        return `announce ${a.group} (${a.reason})`;
      case 'detect':
        return `detect ${a.group} ${a.vip.address} on ${a.iface}`;
      case 'confirm':
        return `confirm ${a.group} ${a.vip.address} with ${a.gateway} on ${a.iface}`;
      case 'levipAnswer':
        return `levip answer ${a.iface} ${a.on ? 'on' : 'off'}`;
      case 'exit':
        return 'exit';
    }
  }

  private input(i: Input): string {
    switch (i.kind) {
      case 'start':
      case 'shutdown':
        return i.kind;
      case 'tick':
        return i.late ? `tick (${i.late} ms late)` : 'tick';
      case 'message':
        return `<- ${i.msg.node} ${i.msg.type} ${groups(i.msg.groups)}`;
      case 'unreachable':
        return `icmp unreachable from ${this.nameOf(i.address)}${i.verified ? ' (verified)' : ''}`;
      case 'vipResult':
        return `vip ${i.present ? 'added' : 'removed'} ${i.group}${i.ok ? '' : ` FAILED: ${i.error ?? '?'}`}`;
      case 'announceResult':
        return `announced ${i.group}: ${i.sent} frames${i.errors.length > 0 ? `, errors: ${i.errors.join(', ')}` : ''}`;
      case 'reconfigure':
        return `reconfigure ${i.options.groups.map((g) => `${g.name}/${g.priority}`).join(' ')}`;
      case 'health':
        return `health ${i.group} ${i.fault ? `fault: ${i.fault}` : i.pending ? `pending: ${i.pending}` : 'ok'}${i.penalty > 0 ? ` -${i.penalty}` : ''}`;
      case 'detectResult':
        return `detected ${i.group}: ${i.error !== undefined ? `error: ${i.error}` : i.macs.length > 0 ? i.macs.join(',') : 'nobody'}`;
      case 'confirmResult':
        return `confirmed ${i.group} ${i.address}: ${i.answered ? 'answered' : `no answer${i.error !== undefined ? ` (${i.error})` : ''}`}`;
      case 'command':
        return `command ${i.command.op}${i.command.op === 'maintenance' ? (i.command.on ? ' on' : ' off') : ''}`;
      case 'levipAnswerResult':
        return `levip answer ${i.iface} ${i.on ? 'on' : 'off'}${i.ok ? '' : ` FAILED: ${i.error ?? '?'}`}`;
    }
  }
}
