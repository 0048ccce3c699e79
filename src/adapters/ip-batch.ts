/**
 * A long-lived `ip -json -force -batch -` for the takeover path. A spawn of `ip` from a Node
 * process costs ~2.5 ms here (fork of a 60 MB process, exec, exit), more on a loaded host;
 * a line written to a running `ip -batch` is done in ~0.3 ms. A takeover is one `addr add`,
 * so this is most of the time between "peer dead" and the gratuitous ARP.
 *
 * Each request writes the command, then `addr show dev IFACE` (what is on the interface
 * afterwards), then `addr show dev lo` as the end marker: lo exists in every namespace, and
 * with -json every show prints exactly one line, a JSON array naming its interface. (`link
 * show` is no marker: in batch mode it leaves ip's address listing in link mode for every
 * later command, iproute2 6.1.) The outcome is read from stdout only, the address there or
 * not, so it never depends on whether stderr's "Command failed" arrives before or after the
 * marker; stderr is kept for the message.
 *
 * Anything odd (the child will not start, dies, says something unparseable, or does not
 * answer in time) ends this child; the caller then falls back to one spawn per call
 * (IpVipHost), and the next request starts a new child, at most once per RESPAWN_HOLD_MS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Millis } from '../config/types.js';
import { parseIpAddrJson, type IfaceAddress } from './ip-json.js';

/** How long after a child died before another is started (spawn per call meanwhile). */
export const RESPAWN_HOLD_MS: Millis = 5000;
const MAX_PENDING_BYTES = 64 * 1024;

export interface BatchOutcome {
  /** the interface's addresses after the command; null when ip listed no such interface. */
  addrs: IfaceAddress[] | null;
  /** stderr received while the request ran ("Error: ...", "Command failed -:N"). */
  stderr: string;
}

/** null: the batch cannot answer this one (not running, died, timed out): spawn instead. */
export type BatchResult = BatchOutcome | null;

export interface BatchChild {
  readonly pid: number | undefined;
  write(text: string): boolean;
  onStdout(fn: (chunk: string) => void): void;
  onStderr(fn: (chunk: string) => void): void;
  onExit(fn: (why: string) => void): void;
  kill(): void;
}

export interface IpBatchOptions {
  ipPath?: string;
  timeoutMs?: Millis;
  now?: () => Millis;
  /** starts the child (tests pass a fake). */
  start?: (argv: readonly string[]) => BatchChild;
  onDeath?: (why: string) => void;
  /** a child was started (the agent gives it the event loop's scheduling priority). */
  onSpawn?: (pid: number) => void;
}

interface Pending {
  /** the interfaces the request lists, in the order written; the last is lo, the end marker. */
  shows: string[];
  /** each listing, by its index in shows; null while none came (no such interface). */
  listed: (IfaceAddress[] | null)[];
  /** the first show a listing line may still answer. */
  next: number;
  stderr: string;
  resolve: (r: Listings | null) => void;
  timer: NodeJS.Timeout;
}

/** What one request got back: the listings of its shows in order, and stderr. */
interface Listings {
  listed: (IfaceAddress[] | null)[];
  stderr: string;
}

/** A group's VIP changes in one request (runAll): each interface listed before and after. */
export interface BatchAllOutcome {
  /** per interface, its addresses before the commands; null when ip listed no such interface. */
  before: Map<string, IfaceAddress[] | null>;
  after: Map<string, IfaceAddress[] | null>;
  stderr: string;
}

const show = (iface: string) => `addr show dev ${iface}`;

export class IpBatch {
  private child: BatchChild | null = null;
  private deadAt = -Infinity;
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private partial = '';
  private closed = false;
  private readonly ipPath: string;
  private readonly timeoutMs: Millis;

  constructor(private readonly opts: IpBatchOptions = {}) {
    this.ipPath = opts.ipPath ?? 'ip';
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  /**
   * Runs `cmd` (ip's words after "ip") then lists iface's addresses. One at a time, in the
   * order asked.
   */
  async run(cmd: readonly string[], iface: string): Promise<BatchResult> {
    const r = await this.request([cmd.join(' '), show(iface)], [iface], [cmd, [iface]]);
    return r && { addrs: r.listed[0] ?? null, stderr: r.stderr };
  }

  /**
   * Several commands in one request: every interface named is listed before them and after
   * them, so the caller can tell what each command changed. Queued like run().
   */
  async runAll(cmds: readonly (readonly string[])[], ifaces: readonly string[]): Promise<BatchAllOutcome | null> {
    const names = [...new Set(ifaces)];
    const lines = [...names.map(show), ...cmds.map((c) => c.join(' ')), ...names.map(show)];
    const r = await this.request(lines, [...names, ...names], [...cmds, names]);
    if (!r) return null;
    const at = (base: number) => new Map(names.map((n, i) => [n, r.listed[base + i] ?? null]));
    return { before: at(0), after: at(names.length), stderr: r.stderr };
  }

  /** The running child's pid, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends the child (agent stop); later calls answer null. */
  close(): void {
    this.closed = true;
    this.end('closed');
  }

  /**
   * Writes `lines` (ending with the listings of `shows`, in that order) and the lo marker
   * unless the last listing is lo's; `words` are checked first. Queued: one at a time.
   */
  private request(lines: readonly string[], shows: readonly string[], words: readonly (readonly string[])[]): Promise<Listings | null> {
    const next = this.queue.then(() => this.runOne(lines, shows, words));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private runOne(lines: readonly string[], shows: readonly string[], words: readonly (readonly string[])[]): Promise<Listings | null> {
    const child = this.ensureChild();
    if (!child) return Promise.resolve(null);
    // ip -batch splits on blanks; every word here was validated by the config schema
    // (addresses, interface names), but refuse anything that could smuggle a second line.
    if (words.flat().some((w) => /[\s"'\\#]/.test(w) || w === '')) return Promise.resolve(null);
    const marked = shows[shows.length - 1] === 'lo' ? [...shows] : [...shows, 'lo'];
    return new Promise<Listings | null>((resolve) => {
      const timer = setTimeout(() => {
        this.settle(null);
        this.end(`no answer within ${this.timeoutMs} ms`);
      }, this.timeoutMs);
      this.pending = { shows: marked, listed: marked.map(() => null), next: 0, stderr: '', resolve, timer };
      const text = [...lines, ...(marked.length > shows.length ? [show('lo')] : [])].map((l) => `${l}\n`).join('');
      if (!child.write(text)) {
        // A full pipe means the child is not reading: treat it as dead.
        this.settle(null);
        this.end('stdin not accepting');
      }
    });
  }

  private ensureChild(): BatchChild | null {
    if (this.closed) return null;
    if (this.child) return this.child;
    const now = (this.opts.now ?? Date.now)();
    if (now - this.deadAt < RESPAWN_HOLD_MS) return null;
    let child: BatchChild;
    try {
      child = (this.opts.start ?? spawnBatchChild)([this.ipPath, '-json', '-force', '-batch', '-']);
    } catch (e) {
      this.deadAt = now;
      this.opts.onDeath?.(`cannot start: ${(e as Error).message}`);
      return null;
    }
    this.child = child;
    this.partial = '';
    if (child.pid !== undefined) this.opts.onSpawn?.(child.pid);
    child.onStdout((chunk) => this.onStdout(child, chunk));
    child.onStderr((chunk) => {
      const p = this.pending ?? this.awaiting;
      if (this.child === child && p) p.stderr = (p.stderr + chunk).slice(-4096);
    });
    child.onExit((why) => {
      if (this.child !== child) return;
      this.child = null;
      this.deadAt = (this.opts.now ?? Date.now)();
      this.settle(null);
      if (!this.closed) this.opts.onDeath?.(why);
    });
    return child;
  }

  private onStdout(child: BatchChild, chunk: string): void {
    if (this.child !== child) return;
    this.partial += chunk;
    if (this.partial.length > MAX_PENDING_BYTES) return this.end('too much output');
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      const p = this.pending;
      if (!p) return this.end(`output with no request: ${line.slice(0, 80)}`);
      let listed: { name: string; addrs: IfaceAddress[] };
      try {
        listed = listing(line);
      } catch (e) {
        return this.end(`unexpected output (${(e as Error).message}): ${line.slice(0, 80)}`);
      }
      // Listings come in the order asked; an interface ip does not know prints none.
      const k = p.shows.indexOf(listed.name, p.next);
      if (k < 0) continue;
      p.listed[k] = listed.addrs;
      p.next = k + 1;
      if (k === p.shows.length - 1) {
        // stderr is written before the marker, but its pipe may be read later in this same
        // turn: settle on the next one.
        this.pending = null;
        this.awaiting = p;
        setImmediate(() => this.settle({ listed: p.listed, stderr: p.stderr.trim() }, p));
      }
    }
  }

  /** the request whose marker was seen, settling on the next turn. */
  private awaiting: Pending | null = null;

  private settle(r: Listings | null, which?: Pending): void {
    const p = which ?? this.pending ?? this.awaiting;
    if (!p) return;
    clearTimeout(p.timer);
    if (this.pending === p) this.pending = null;
    if (this.awaiting === p) this.awaiting = null;
    p.resolve(r);
  }

  private end(why: string): void {
    const child = this.child;
    this.child = null;
    this.deadAt = (this.opts.now ?? Date.now)();
    this.settle(null);
    if (child) {
      child.kill();
      if (!this.closed) this.opts.onDeath?.(why);
    }
  }
}

/** One `ip -json addr show dev X` line: the interface's name and addresses. */
function listing(line: string): { name: string; addrs: IfaceAddress[] } {
  const parsed = JSON.parse(line) as { ifname?: unknown }[];
  const name = Array.isArray(parsed) && parsed.length === 1 ? parsed[0]?.ifname : undefined;
  if (typeof name !== 'string') throw new Error('not one interface');
  return { name, addrs: parseIpAddrJson(line) };
}

/** The real child: `argv` spawned with three pipes, killed by its own handle. */
export function spawnBatchChild(argv: readonly string[]): BatchChild {
  const cp: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let exited = false;
  const exitFns: ((why: string) => void)[] = [];
  const fire = (why: string) => {
    if (exited) return;
    exited = true;
    for (const fn of exitFns) fn(why);
  };
  cp.on('error', (e) => fire(`error: ${e.message}`));
  cp.on('exit', (code, signal) => fire(`exited (code ${code}, signal ${signal})`));
  cp.stdin!.on('error', (e) => fire(`stdin: ${e.message}`));
  cp.stdout!.setEncoding('utf8');
  cp.stderr!.setEncoding('utf8');
  return {
    pid: cp.pid,
    write: (text) => !exited && cp.stdin!.write(text),
    onStdout: (fn) => void cp.stdout!.on('data', fn),
    onStderr: (fn) => void cp.stderr!.on('data', fn),
    onExit: (fn) => void exitFns.push(fn),
    kill: () => {
      if (!exited && cp.exitCode === null) cp.kill('SIGKILL');
    },
  };
}
