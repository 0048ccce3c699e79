/**
 * Interface tracking driven by kernel events, not polling: one long-running `ip -o monitor link`
 * (a netlink subscriber; it works unchanged inside a network namespace because it inherits the
 * caller's), parsed line by line. Each watched interface's state is reported through onLink only
 * when it changes, within a few milliseconds of the kernel's event.
 *
 * Start-up order closes the gap between "subscribed" and "read": the monitor is spawned first,
 * then every interface is read with `ip -json link show dev IF`, and read again once after
 * confirmDelay (the subscription is made a moment after spawn). A read never overrides an event
 * that arrived after the read was started: the event is newer.
 *
 * If the monitor exits (killed, crashed), it is restarted with a doubling backoff, and the
 * interfaces are read again because events were missed meanwhile. The child is killed by its
 * own handle on stop(), never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BoundedBuffer, errorText } from '../adapters/bounded-buffer.js';
import { DEFAULTS } from '../config/defaults.js';
import type { Clock, CommandRunner } from '../ports/index.js';
import { LineSplitter, parseLinkShow, parseMonitorLine } from './link-parse.js';
import type { Millis } from './types.js';
import type { TimerHandle, Timers } from '../ports/index.js';

export { parseMonitorLine, parseLinkShow, flagsUp, type LinkEvent } from './link-parse.js';

export const MONITOR_ARGV = ['ip', '-o', 'monitor', 'link'] as const;

/** The monitor's timings (DEFAULTS.link); tests pass shorter ones. */
export type LinkMonitorOptions = { [K in keyof typeof DEFAULTS.link]: Millis };

/** A running line-producing child. */
export interface LineProcess {
  pid: number | undefined;
  kill(): void;
}

/** Starts argv; calls onLine per stdout line and onExit exactly once. Injectable for tests. */
export type SpawnLines = (
  argv: readonly string[],
  onLine: (line: string) => void,
  onExit: (code: number | null, signal: NodeJS.Signals | null, stderr: string) => void,
) => LineProcess;

export interface MonitorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  restartIn: Millis;
}

export interface LinkMonitorDeps {
  runner: CommandRunner;
  timers: Timers;
  clock: Clock;
  onLink: (iface: string, up: boolean) => void;
  /** the monitor process died and will be restarted; for logs. */
  onMonitorExit?: (exit: MonitorExit) => void;
  spawnLines?: SpawnLines;
  options?: Partial<LinkMonitorOptions>;
}

export class LinkMonitor {
  private readonly watched: Set<string>;
  private readonly states = new Map<string, boolean>();
  /** events seen per interface, so a read started before an event cannot overwrite it. */
  private readonly seq = new Map<string, number>();
  /** ifindex -> name, to notice a watched interface renamed away. */
  private readonly names = new Map<number, string>();
  private readonly opts: LinkMonitorOptions;
  private proc: LineProcess | null = null;
  private timers: TimerHandle[] = [];
  private running = false;
  private backoff: Millis;
  private startedAt = 0;

  constructor(
    interfaces: readonly string[],
    private readonly deps: LinkMonitorDeps,
  ) {
    this.watched = new Set(interfaces);
    this.opts = { ...DEFAULTS.link, ...deps.options };
    this.backoff = this.opts.backoffMin;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.launch();
  }

  stop(): void {
    this.running = false;
    for (const h of this.timers) this.deps.timers.clearTimeout(h);
    this.timers = [];
    this.proc?.kill();
    this.proc = null;
  }

  /**
   * Replaces the set of watched interfaces (reload). Interfaces kept keep their state and
   * report nothing; new ones are read now (and again after confirmDelay, like at start);
   * dropped ones are forgotten.
   */
  watch(interfaces: readonly string[]): void {
    const next = new Set(interfaces);
    const added = [...next].filter((i) => !this.watched.has(i));
    for (const i of [...this.watched]) {
      if (next.has(i)) continue;
      this.watched.delete(i);
      this.states.delete(i);
      this.seq.delete(i);
    }
    for (const i of added) this.watched.add(i);
    if (!this.running || added.length === 0) return;
    this.readAll(added);
    this.later(this.opts.confirmDelay, () => this.readAll(added.filter((i) => this.watched.has(i))));
  }

  /**
   * PID of the running `ip monitor`: test/fixtures/health/link-watch.mjs reports it, so the
   * netns test can check that the child dies with its monitor.
   */
  pid(): number | undefined {
    return this.proc?.pid;
  }

  private launch(): void {
    const spawnLines = this.deps.spawnLines ?? spawnLineProcess;
    this.startedAt = this.deps.clock.now();
    const proc = spawnLines(
      MONITOR_ARGV,
      (line) => this.onLine(line),
      (code, signal, stderr) => this.onExit(proc, code, signal, stderr),
    );
    this.proc = proc;
    this.readAll();
    this.later(this.opts.confirmDelay, () => this.readAll());
  }

  private later(ms: Millis, fn: () => void): void {
    const h = this.deps.timers.setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== h);
      if (this.running) fn();
    }, ms);
    this.timers.push(h);
  }

  private onLine(line: string): void {
    const ev = parseMonitorLine(line);
    if (!ev) return;
    const before = this.names.get(ev.ifindex);
    if (before !== undefined && before !== ev.iface) this.event(before, false);
    if (ev.deleted) this.names.delete(ev.ifindex);
    else this.names.set(ev.ifindex, ev.iface);
    this.event(ev.iface, ev.up);
  }

  private event(iface: string, up: boolean): void {
    if (!this.watched.has(iface)) return;
    this.seq.set(iface, (this.seq.get(iface) ?? 0) + 1);
    this.set(iface, up);
  }

  private set(iface: string, up: boolean): void {
    if (!this.running || this.states.get(iface) === up) return;
    this.states.set(iface, up);
    this.deps.onLink(iface, up);
  }

  private readAll(ifaces: Iterable<string> = this.watched): void {
    for (const iface of [...ifaces]) {
      const seqAtStart = this.seq.get(iface) ?? 0;
      void this.deps.runner.run(['ip', '-json', 'link', 'show', 'dev', iface], this.opts.readTimeout).then((r) => {
        if ((this.seq.get(iface) ?? 0) !== seqAtStart) return;
        // Exit 1 is "Device does not exist": a missing interface is a down one.
        const link = r.code === 0 ? parseLinkShow(r.stdout, iface) : null;
        if (link) this.names.set(link.ifindex, iface);
        this.set(iface, link?.up ?? false);
      });
    }
  }

  private onExit(proc: LineProcess, code: number | null, signal: NodeJS.Signals | null, stderr: string): void {
    if (this.proc !== proc) return;
    this.proc = null;
    if (!this.running) return;
    const ranFor = this.deps.clock.now() - this.startedAt;
    if (ranFor >= this.opts.stableAfter) this.backoff = this.opts.backoffMin;
    const restartIn = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.backoffMax);
    this.deps.onMonitorExit?.({ code, signal, stderr, restartIn });
    this.later(restartIn, () => this.launch());
  }
}

/** The real SpawnLines: stdout split into lines, stderr kept (bounded) for the exit report. */
export const spawnLineProcess: SpawnLines = (argv, onLine, onExit) => {
  let exited = false;
  const exit = (code: number | null, signal: NodeJS.Signals | null, stderr: string): void => {
    if (exited) return;
    exited = true;
    onExit(code, signal, stderr);
  };
  let child: ChildProcess;
  try {
    child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
  } catch (err) {
    queueMicrotask(() => exit(-1, null, errorText(err)));
    return { pid: undefined, kill: () => undefined };
  }
  const splitter = new LineSplitter(onLine);
  const stderr = new BoundedBuffer(4096);
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => splitter.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.on('error', (err) => {
    if (child.pid === undefined) exit(-1, null, errorText(err));
  });
  child.on('close', (code, signal) => exit(code, signal, stderr.text()));
  return {
    get pid() {
      return child.pid;
    },
    // Through the handle: a no-op once the child was reaped, so a recycled PID is never hit.
    kill: () => {
      child.kill('SIGKILL');
    },
  };
};
