/**
 * What the bench and the drill need from any failover agent (haagent, keepalived, ucarp,
 * Heartbeat) running on the lab's directors, plus the process-tree plumbing the forking
 * daemons need.
 *
 * Forking daemons: keepalived and Heartbeat fork, and a daemon re-parented to this
 * machine's pid 1 is reaped lazily (a zombie once made a restarted keepalived refuse to
 * start). Node has no prctl(PR_SET_CHILD_SUBREAPER) binding, so each such daemon runs in a
 * PID namespace of its own: `unshare --pid --fork --kill-child --mount-proc CMD`. The
 * unshare process is the one the lab spawned and tracks by PID; SIGKILL to it kills its
 * child (PDEATHSIG), and when a PID namespace's init dies the kernel kills everything in
 * it. unshare blocks SIGTERM while it waits, so a planned stop signals the daemon inside
 * (found under /proc/PID/task/TID/children), never the wrapper. --mount-proc gives the
 * daemon a /proc of its own, so a stale pid file naming a host pid cannot look alive.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { run, sleep, waitFor, within, type CommandResult } from '../exec.js';
import { VIP_CIDR, type Lab, type LabHost, type LabProcess } from '../lab.js';

/** One agent on one director. */
export interface AgentNode {
  readonly name: string;
  readonly host: LabHost;
  /** spawns the agent; resolves once it is spawned (not once it is ready). */
  start(): Promise<void>;
  /** planned stop (the agent's own graceful path); resolves when it exited (bounded). */
  stop(): Promise<void>;
  /** crash: SIGKILL of the agent and everything it forked. */
  kill(): Promise<void>;
  /** hang: SIGSTOP / SIGCONT of every process of the agent. */
  freeze(): void;
  thaw(): void;
  /**
   * What a supervisor runs after the agent died (systemd ExecStopPost): haagent's own
   * `haagent release`; for the others the VIP's `ip addr del`, as an operator would write it.
   */
  cleanup(): Promise<CommandResult>;
  alive(): boolean;
  /** host PIDs of the agent's processes (wrappers excluded), for RSS and CPU. */
  pids(): number[];
  vipPresent(): Promise<boolean>;
  logTail(lines?: number): string;
}

/** The agents of one lab, all with the same settings (one bench cell). */
export interface AgentCluster {
  readonly kind: 'haagent' | 'keepalived' | 'ucarp' | 'heartbeat';
  readonly nodes: AgentNode[];
  /** the silence after which a peer is declared dead, in ms (sizes waits and the hang). */
  readonly detectMs: number;
  /** the exact settings, one line, for the report. */
  readonly settings: string;
  startAll(): Promise<void>;
  stopAll(): Promise<void>;
  /** removes the agent's temp files (kept when HAAGENT_LAB_KEEP is set). */
  cleanup(): void;
}

/** Children of pid, from /proc/PID/task/TID/children (all threads); [] when gone. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** pid and all its descendants, parents first; bounded so a fork bomb cannot hang us. */
export function processTree(root: number, max = 500): number[] {
  const seen: number[] = [];
  const queue = [root];
  while (queue.length > 0 && seen.length < max) {
    const pid = queue.shift() as number;
    if (seen.includes(pid)) continue;
    seen.push(pid);
    queue.push(...childrenOf(pid));
  }
  return seen;
}

/** The command name (/proc/PID/comm), or null once the process is gone. */
export function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** Sends sig to every process of the tree, parents first (SIGSTOP: nobody forks meanwhile). */
export function signalTree(root: number, sig: NodeJS.Signals): number {
  let n = 0;
  for (const pid of processTree(root)) {
    try {
      process.kill(pid, sig);
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return commOf(pid) !== null && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Wrapper processes that belong to the harness, not to the agent being measured. */
const WRAPPERS = new Set(['unshare', 'sh', 'sleep', 'ip']);

/** The agent's own processes under a wrapper: the tree minus unshare/sh/sleep. */
export function agentPids(root: number): number[] {
  return processTree(root).filter((p) => {
    const c = commOf(p);
    return c !== null && !WRAPPERS.has(c) && pidAlive(p);
  });
}

/** `ip addr del VIP dev eth0` in the host's namespace: the others' ExecStopPost stand-in. */
export function delVip(host: LabHost): Promise<CommandResult> {
  return run(['ip', '-n', host.ns, 'addr', 'del', VIP_CIDR, 'dev', 'eth0']);
}

/**
 * A daemon started as `unshare --pid --fork --kill-child --mount-proc [extra] argv` in a
 * director's namespace. Subclasses say how to find the daemon to SIGTERM for a planned stop.
 */
export abstract class WrappedDaemon implements AgentNode {
  proc: LabProcess | null = null;

  constructor(
    protected readonly lab: Lab,
    readonly host: LabHost,
    readonly logPath: string,
  ) {}

  get name(): string {
    return this.host.name;
  }

  /** The command run inside the PID namespace. */
  protected abstract command(): string[];
  /** Extra unshare flags (Heartbeat adds --mount --uts). */
  protected unshareFlags(): string[] {
    return [];
  }
  /** The process a planned stop signals; default: the namespace's init (unshare's child). */
  protected mainPid(): number | null {
    if (!this.proc) return null;
    return childrenOf(this.proc.pid)[0] ?? null;
  }
  /** Runs before each start (remove stale pid files and the like). */
  protected prepare(): void {}

  async start(): Promise<void> {
    if (this.proc?.alive()) throw new Error(`${this.name} is already running (pid ${this.proc.pid})`);
    this.prepare();
    const argv = ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', ...this.unshareFlags(), ...this.command()];
    this.proc = this.lab.spawn(this.host, argv, { logFile: this.logPath });
    // The daemon is unshare's child: wait (bounded) until it exists, so freeze/stop find it.
    await waitFor(() => this.mainPid() !== null || !this.proc?.alive(), 2000, 5);
  }

  async stop(timeoutMs = 8000): Promise<void> {
    const p = this.proc;
    if (!p?.alive()) return;
    const main = this.mainPid();
    if (main !== null) process.kill(main, 'SIGTERM');
    const done = await waitFor(() => main === null || !pidAlive(main), timeoutMs, 10);
    // Whatever is left (the wrapper, a stuck daemon) goes with the namespace.
    p.kill('SIGKILL');
    await within(p.exited, 3000, null);
    if (!done) throw new Error(`${this.name}: planned stop did not finish in ${timeoutMs} ms`);
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (!p?.alive()) return;
    p.kill('SIGKILL');
    await within(p.exited, 3000, null);
    // The PID namespace dies with its init; give the kernel a moment to finish the others.
    await sleep(5);
  }

  freeze(): void {
    if (this.proc?.alive()) signalTree(this.proc.pid, 'SIGSTOP');
  }

  thaw(): void {
    if (this.proc?.alive()) signalTree(this.proc.pid, 'SIGCONT');
  }

  cleanup(): Promise<CommandResult> {
    return delVip(this.host);
  }

  alive(): boolean {
    return this.proc?.alive() ?? false;
  }

  pids(): number[] {
    return this.proc?.alive() ? agentPids(this.proc.pid) : [];
  }

  vipPresent(): Promise<boolean> {
    return this.lab.hasAddress(this.host, VIP_CIDR);
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Whether an executable is installed: an absolute path that exists, or a name on PATH. */
export async function installed(bin: string): Promise<boolean> {
  if (bin.startsWith('/')) return existsSync(bin);
  return (await run(['sh', '-c', 'command -v "$1"', 'sh', bin])).code === 0;
}
