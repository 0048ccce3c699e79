/**
 * The haagent adapter for drills: one config + one shared key per lab, one agent process per
 * director, started as `ip netns exec NS node dist/src/main.js run --config FILE` and
 * controlled by PID. Release goes through the real CLI, run inside the namespace; status is
 * asked on the control socket (cliStatus(): through the CLI).
 */
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { request } from '../../../src/daemon/control.js';
import { NODE_FLAGS } from '../../../src/cli/relaunch.js';
import type { StatusRecord } from '../../../src/daemon/status-view.js';
import { run, waitFor, within, type CommandResult } from '../exec.js';
import { REPO_ROOT, VIP_CIDR, type Lab, type LabHost, type LabProcess } from '../lab.js';
import type { Exit } from '../proc.js';

export type { StatusRecord };

export const HAAGENT_MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');
/**
 * The node flags of the binary's shebang (src/main.ts), so drills run the agent as installed
 * (without them `run` would relaunch itself with them: test/netns/relaunch.test.ts).
 */
export const HAAGENT_NODE_FLAGS: readonly string[] = NODE_FLAGS;
export const GROUP = 'web';

/**
 * The capabilities systemd/haagent.service gives the agent (ambient, bounding and inheritable
 * sets), in setpriv's spelling: NET_ADMIN for the VIP and net.* sysctls, NET_RAW for ARP
 * frames and arping, NET_BIND_SERVICE for port 694, SYS_NICE for SCHED_RR.
 */
export const AGENT_CAPS: readonly string[] = ['net_admin', 'net_raw', 'net_bind_service', 'sys_nice'];

/** An unprivileged identity to run the agent as, as the unit's User=/Group= do. */
export interface RunAs {
  uid: number;
  gid: number;
  /** setpriv names (AGENT_CAPS by default). */
  caps?: readonly string[];
}

/**
 * The argv prefix that runs a program as the unit runs the agent: another uid and gid, no
 * supplementary groups, no_new_privs, and only `caps`, raised as ambient capabilities (so
 * they survive the execve of node and are handed on to `ip` and `arping` children) and the
 * only ones left in the bounding set.
 */
export function setprivPrefix(as: RunAs): string[] {
  const set = ['-all', ...(as.caps ?? AGENT_CAPS).map((c) => `+${c}`)].join(',');
  return ['setpriv', `--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', '--no-new-privs', `--inh-caps=${set}`, `--ambient-caps=${set}`, `--bounding-set=${set}`];
}

/** chown -R, for a tree an unprivileged agent must own (its key, config, state, socket dir). */
export function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

export interface GarpOptions {
  count: number;
  spacing: string;
  form: 'request' | 'reply' | 'both';
  refresh: string;
}

export interface HaagentOptions {
  interval?: string;
  deadTime?: string;
  initDead?: string;
  port?: number;
  /** one value for every director, or one per director index. */
  preempt?: boolean | boolean[];
  preemptDelay?: string;
  garp?: Partial<GarpOptions>;
  /** by director index; default 150, 100, 50. */
  priorities?: number[];
  logLevel?: string;
  /** LevIP mode (docs/levip.md): every director a member; weights by director index (default 1). */
  levip?: LevipOptions;
  /**
   * heartbeat.peers by director index: a lossy path's relay addresses, unnamed (the relay
   * forwards from its own address), or named entries, e.g. one per path with its own bind.
   * Default: the other directors, each named with its address.
   */
  peers?: (string | PeerEntry)[][];
  /** heartbeat.multicast: the group heartbeats are sent to (peers: [[], []] for multicast alone). */
  multicast?: string;
  /**
   * Heartbeats over IPv6: heartbeat.bind and the default peers are the directors' ip6
   * addresses (Lab.addIpv6 must have put them on eth0 first).
   */
  ipv6Heartbeats?: boolean;
  /** the group's announcement check (`confirm:`, as written in the file); default none. */
  confirm?: { gateway: string; attempts?: number };
  /** the group's `vips:` list (as written in the file) instead of `vip: VIP_CIDR`. */
  vips?: unknown[];
  /**
   * Run every agent, and its `release`, as this user with only its capabilities (setpriv),
   * as systemd/haagent.service does; the lab's files are then owned by that user.
   */
  runAs?: RunAs;
}

/** A named heartbeat.peers entry as the configuration writes it. */
export interface PeerEntry {
  node: string;
  address: string;
  bind?: string;
}

export interface LevipOptions {
  period: string;
  guard: string;
  repeat: string;
  weights?: number[];
}

/** True once the lead's binary can run (`main.js run --help` exits 0). */
export async function haagentAvailable(): Promise<boolean> {
  return (await run([process.execPath, HAAGENT_MAIN, 'run', '--help'], 10000)).code === 0;
}

/** The agent's YAML for director i of the lab (the agent's real configuration format). */
export function configFor(lab: Lab, i: number, dir: string, opts: HaagentOptions): Record<string, unknown> {
  const me = lab.directors[i];
  const addressOf = (h: LabHost): string => (opts.ipv6Heartbeats ? h.ip6 : h.ip);
  const garp: GarpOptions = { count: 3, spacing: '20ms', form: 'both', refresh: '0s', ...opts.garp };
  return {
    node: me.name,
    cluster: 'lab',
    logLevel: opts.logLevel ?? 'info',
    stateDir: join(dir, me.name, 'state'),
    heartbeat: {
      bind: addressOf(me),
      port: opts.port ?? 694,
      peers: opts.peers?.[i] ?? lab.directors.filter((d) => d !== me).map((d) => ({ node: d.name, address: addressOf(d) })),
      ...(opts.multicast ? { multicast: opts.multicast } : {}),
      interval: opts.interval ?? '50ms',
      deadTime: opts.deadTime ?? '150ms',
      initDead: opts.initDead ?? '300ms',
      keyFile: join(dir, 'key'),
    },
    control: { socket: join(dir, me.name, 'agent.sock') },
    groups: [
      {
        name: GROUP,
        ...(opts.vips ? { vips: opts.vips } : { vip: VIP_CIDR }),
        interface: 'eth0',
        priority: opts.priorities?.[i] ?? [150, 100, 50][i],
        preempt: (Array.isArray(opts.preempt) ? opts.preempt[i] : opts.preempt) ?? true,
        preemptDelay: opts.preemptDelay ?? '0s',
        garp,
        ...(opts.confirm ? { confirm: opts.confirm } : {}),
        ...(opts.levip ? levipKeys(opts.levip, i) : {}),
      },
    ],
  };
}

function levipKeys(l: LevipOptions, i: number): Record<string, unknown> {
  return { mode: 'levip', levip: { period: l.period, guard: l.guard, repeat: l.repeat, weight: l.weights?.[i] ?? 1 } };
}

export class HaagentNode {
  proc: LabProcess | null = null;
  readonly configPath: string;
  readonly logPath: string;
  /**
   * Start with the binary's node flags (as installed); false starts plain `node main.js run`,
   * which relaunches itself with them (execve, same PID: src/cli/relaunch.ts).
   */
  nodeFlags = true;

  constructor(
    private readonly lab: Lab,
    readonly host: LabHost,
    readonly dir: string,
    /** argv prefix of `run` and `release` (setpriv for a non-root agent), empty for root. */
    readonly prefix: readonly string[] = [],
  ) {
    this.configPath = join(dir, 'config.yaml');
    this.logPath = join(dir, 'agent.log');
  }

  get name(): string {
    return this.host.name;
  }

  /** Starts the agent (stdout and stderr appended to logPath); tracked by the lab for teardown. */
  start(): LabProcess {
    if (this.proc?.alive()) throw new Error(`${this.name} is already running (pid ${this.proc.pid})`);
    const argv = [...this.prefix, process.execPath, ...(this.nodeFlags ? HAAGENT_NODE_FLAGS : []), HAAGENT_MAIN, 'run', '--config', this.configPath];
    this.proc = this.lab.spawn(this.host, argv, { logFile: this.logPath });
    return this.proc;
  }

  /** Planned stop: SIGTERM, wait (bounded) for the exit. null if it did not exit in time. */
  stop(timeoutMs = 5000): Promise<Exit | null> {
    return this.signal('SIGTERM', timeoutMs);
  }

  /** Crash: SIGKILL. */
  kill(timeoutMs = 3000): Promise<Exit | null> {
    return this.signal('SIGKILL', timeoutMs);
  }

  private async signal(sig: NodeJS.Signals, timeoutMs: number): Promise<Exit | null> {
    const p = this.proc;
    if (!p) return null;
    p.kill(sig);
    return within(p.exited, timeoutMs, null);
  }

  /** `haagent release` inside the director's namespace, as the agent's user (ExecStopPost). */
  release(): Promise<CommandResult> {
    return this.lab.exec(this.host, [...this.prefix, process.execPath, HAAGENT_MAIN, 'release', '--config', this.configPath], 10000);
  }

  /** `haagent status --json`, parsed; null when no agent answers. */
  /**
   * The agent's status, asked on its control socket from this process. Drills poll status
   * many times a second: a `haagent status` process per poll (a node start-up, ~150 ms of CPU)
   * loaded a 2-core machine more than the agents under test did. cliStatus() is the CLI.
   */
  async status(): Promise<StatusRecord | null> {
    try {
      const doc = parse(readFileSync(this.configPath, 'utf8')) as { control?: { socket?: string } };
      const socket = doc.control?.socket;
      if (socket === undefined) return null;
      const res = await request(socket, { cmd: 'status' }, 5000);
      return res.ok ? (res.status as StatusRecord) : null;
    } catch {
      return null;
    }
  }

  /** The status through the real CLI (`haagent status --json`), run inside the namespace. */
  async cliStatus(): Promise<StatusRecord | null> {
    const r = await this.lab.exec(this.host, [process.execPath, HAAGENT_MAIN, 'status', '--json', '--config', this.configPath], 5000);
    if (r.code !== 0) return null;
    try {
      return JSON.parse(r.stdout) as StatusRecord;
    } catch {
      return null;
    }
  }

  async groupState(group = GROUP): Promise<string | null> {
    return (await this.status())?.groups.find((g) => g.name === group)?.state ?? null;
  }

  /** Waits (bounded) until the group reaches state on this node. */
  async waitState(state: string, timeoutMs: number, group = GROUP): Promise<boolean> {
    return (await waitFor(async () => (await this.groupState(group)) === state, timeoutMs, 50)) ?? false;
  }

  /** Whether the VIP is on this director's eth0 (or `dev`: lo for LevIP) right now. */
  vipPresent(dev = 'eth0'): Promise<boolean> {
    return this.lab.hasAddress(this.host, VIP_CIDR, dev);
  }

  /** The last lines of the agent's log, for failure messages. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** One haagent per director of a lab, sharing one key, every file in one temp dir. */
export class HaagentCluster {
  readonly dir: string;
  readonly nodes: HaagentNode[];

  constructor(lab: Lab, opts: HaagentOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'hatagents-'));
    // The agent's key format: one line of hex (src/config/key.ts); same key on every node.
    writeFileSync(join(this.dir, 'key'), randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    this.nodes = lab.directors.map((d, i) => {
      const dir = join(this.dir, d.name);
      mkdirSync(join(dir, 'state'), { recursive: true, mode: 0o700 });
      const node = new HaagentNode(lab, d, dir, opts.runAs ? setprivPrefix(opts.runAs) : []);
      writeFileSync(node.configPath, stringify(configFor(lab, i, this.dir, opts)), { mode: 0o600 });
      return node;
    });
    // As the unit's user would own /etc/haagent/key and systemd hands it /var/lib/haagent.
    if (opts.runAs) chownTree(this.dir, opts.runAs.uid, opts.runAs.gid);
  }

  node(name: string): HaagentNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no haagent node ${name}`);
    return n;
  }

  startAll(): void {
    for (const n of this.nodes) n.start();
  }

  /** The nodes that report the group active (one status call per running node). */
  async activeNodes(group = GROUP): Promise<string[]> {
    const running = this.nodes.filter((n) => n.proc?.alive());
    const states = await Promise.all(running.map((n) => n.groupState(group)));
    return running.filter((_, i) => states[i] === 'active').map((n) => n.name);
  }

  /** SIGTERM every running agent, waiting for each (bounded); the lab SIGKILLs stragglers. */
  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.proc?.alive()).map((n) => n.stop()));
  }

  /** Removes the temp dir (kept when HAAGENT_LAB_KEEP is set, for post-mortems). */
  cleanup(): void {
    if (!process.env.HAAGENT_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
