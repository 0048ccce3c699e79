/**
 * The BGP lab: the drill lab (lab.ts) with routing on top. Its client namespace `c` becomes
 * the upstream router (198.51.100.1 on the directors' segment), running BIRD with one eBGP
 * session and BFD per director and multipath (ECMP) routes hashed on L4 ports; behind it, on a
 * link of its own, sits the traffic client `n0` (203.0.113.2/28, router side 203.0.113.1).
 * Each director runs BIRD exporting the /32s on its VIP device (`haagent0`, a dummy) and
 * the responder. The VIP 203.0.113.100/32 is reachable only through BGP: it is in no
 * connected subnet. Every daemon has its config, control socket, pid file and log under the
 * lab's temp dir and is stopped by PID in destroy(). Nothing touches the root namespace.
 *
 *   const bgp = await BgpLab.create({ directors: 3 });
 *   try { ... } finally { await bgp.destroy(); }
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { birdLogFile, directorBird, LAB_BFD, routerBird, type BfdTiming } from './bgp-conf.js';
import { distScript } from './build.js';
import { epochNow, must, run, waitFor, within, type CommandResult } from './exec.js';
import type { FlowResult } from './flows.js';
import { Lab, type LabHost } from './lab.js';
import { spawnInNs, spawnReady, stopForJson, type LabProcess } from './proc.js';

export const BGP_VIP = '203.0.113.100';
export const BGP_VIP_CIDR = `${BGP_VIP}/32`;
export const VIP_DEVICE = 'haagent0';
export const CLIENT_IP = '203.0.113.2';
export const ROUTER_INSIDE_IP = '203.0.113.1';

export interface BgpLabOptions {
  directors: 2 | 3;
  /** BFD timing on both ends, or null for none (default LAB_BFD). */
  bfd?: BfdTiming | null;
  /** create the VIP device in each director (default true; haagent creates it when false). */
  device?: boolean;
}

export interface Bird {
  host: LabHost;
  socket: string;
  proc: LabProcess;
}

export interface FlowHandle {
  proc: LabProcess;
  stop(): Promise<FlowResult>;
}

/** Whether BIRD 2 and birdc are installed, or why not. */
export async function birdSkipReason(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const bin of ['bird', 'birdc']) {
    const r = await run(['sh', '-c', `command -v ${bin}`]);
    if (r.code !== 0) return `${bin} is not installed (scripts/setup.sh installs Debian's bird2)`;
  }
  return null;
}

/**
 * The VIP device: a dummy link, or an ifb link (also a link that only holds addresses) on
 * kernels built without the dummy driver. BIRD's direct protocol reads either alike.
 */
async function addVipDevice(ns: string): Promise<void> {
  const dummy = await run(['ip', '-n', ns, 'link', 'add', VIP_DEVICE, 'type', 'dummy']);
  if (dummy.code !== 0) await must(['ip', '-n', ns, 'link', 'add', VIP_DEVICE, 'type', 'ifb']);
  await must(['ip', '-n', ns, 'link', 'set', VIP_DEVICE, 'up']);
}

export class BgpLab {
  readonly router: LabHost;
  readonly directors: LabHost[];
  /** the traffic client's namespace, behind the router. */
  readonly clientNs: string;
  readonly birds = new Map<string, Bird>();
  private readonly procs: LabProcess[] = [];
  private readonly onExit = (): void => this.procs.forEach((p) => p.kill('SIGKILL'));

  private constructor(readonly lab: Lab, private readonly bfd: BfdTiming | null) {
    this.router = lab.client;
    this.directors = lab.directors;
    this.clientNs = `${lab.prefix}n0`;
    // If the creator dies without destroy(), the daemons it started do not keep running.
    process.on('exit', this.onExit);
  }

  static async create(opts: BgpLabOptions): Promise<BgpLab> {
    const lab = await Lab.create({ directors: opts.directors });
    const bgp = new BgpLab(lab, opts.bfd === undefined ? LAB_BFD : opts.bfd);
    try {
      await bgp.build(opts.device ?? true);
    } catch (err) {
      await bgp.destroy();
      throw err;
    }
    return bgp;
  }

  private async build(device: boolean): Promise<void> {
    const r = this.router.ns;
    const c = this.clientNs;
    await must(['ip', 'netns', 'add', c]);
    await must(['ip', '-n', c, 'link', 'set', 'lo', 'up']);
    await must(['ip', '-n', c, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', r]);
    await must(['ip', '-n', c, 'addr', 'add', `${CLIENT_IP}/28`, 'dev', 'eth0']);
    await must(['ip', '-n', c, 'link', 'set', 'eth0', 'up']);
    await must(['ip', '-n', c, 'route', 'add', 'default', 'via', ROUTER_INSIDE_IP]);
    await must(['ip', '-n', r, 'addr', 'add', `${ROUTER_INSIDE_IP}/28`, 'dev', 'eth1']);
    await must(['ip', '-n', r, 'link', 'set', 'eth1', 'up']);
    // Inside the router's namespace only: forward, and hash multipath routes on L4 ports.
    await must(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=1']);
    for (const d of this.directors) {
      await must(['ip', '-n', d.ns, 'route', 'add', 'default', 'via', this.router.ip]);
      if (device) await addVipDevice(d.ns);
    }
    const up = await waitFor(async () => (await run(['ip', '-n', c, 'link', 'show', 'eth0'])).stdout.includes('state UP'), 3000, 20);
    if (!up) throw new Error(`eth0 in ${c} did not come up`);
  }

  /** Starts a daemon in host's namespace; destroy() SIGKILLs it by PID if it still runs. */
  spawn(host: LabHost, argv: readonly string[], logFile: string): LabProcess {
    const proc = spawnInNs(host.ns, argv, { logFile });
    this.procs.push(proc);
    return proc;
  }

  /** host's scratch directory for one daemon kind (configs, sockets, pid files, logs). */
  dirOf(h: LabHost, kind = 'bird'): string {
    const dir = join(this.lab.dir, `${kind}-${h.name}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /** Starts BIRD in host's namespace with `conf` (foreground, its own socket and pid file). */
  async startBird(host: LabHost, conf: (logFile: string) => string): Promise<Bird> {
    const dir = this.dirOf(host);
    const cfg = join(dir, 'bird.conf');
    const socket = join(dir, 'bird.ctl');
    writeFileSync(cfg, conf(join(dir, 'bird.log')), { mode: 0o600 });
    const parse = await run(['bird', '-p', '-c', cfg]);
    if (parse.code !== 0) throw new Error(`bird -p ${cfg}: ${parse.stderr.trim()}`);
    const proc = this.spawn(host, ['bird', '-f', '-c', cfg, '-s', socket, '-P', join(dir, 'bird.pid')], join(dir, 'bird.out'));
    const bird = { host, socket, proc };
    this.birds.set(host.name, bird);
    const ready = await waitFor(async () => !proc.alive() || (await this.birdc(host, ['show', 'status'])).code === 0, 5000, 50);
    if (!ready || !proc.alive()) throw new Error(`bird in ${host.ns} did not start: ${this.birdLog(host)}`);
    return bird;
  }

  /** BIRD on the router and on every director, with the lab's configurations. */
  async startRouting(directors: readonly LabHost[] = this.directors): Promise<void> {
    await this.startBird(this.router, (logFile) => routerBird({ routerId: this.router.ip, neighbors: this.directors.map((d) => d.ip), uplink: 'eth0', bfd: this.bfd, log: birdLogFile(logFile) }));
    for (const d of directors) await this.startDirectorBird(d);
  }

  startDirectorBird(d: LabHost): Promise<Bird> {
    return this.startBird(d, (logFile) => directorBird({ routerId: d.ip, neighbor: this.router.ip, device: VIP_DEVICE, uplink: 'eth0', bfd: this.bfd, log: birdLogFile(logFile) }));
  }

  /** The director's BIRD control socket (for haagent's bgp.daemon readback). */
  socketOf(h: LabHost): string {
    return join(this.dirOf(h), 'bird.ctl');
  }

  birdc(host: LabHost, args: readonly string[]): Promise<CommandResult> {
    return this.lab.exec(host, ['birdc', '-s', this.socketOf(host), ...args], 5000);
  }

  birdLog(host: LabHost, lines = 15): string {
    try {
      return readFileSync(join(this.dirOf(host), 'bird.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no bird log)';
    }
  }

  /** Waits (bounded) until the router's session with each director given is Established. */
  async waitEstablished(directors: readonly LabHost[], timeoutMs = 15_000): Promise<boolean> {
    const names = directors.map((d) => `d${this.directors.indexOf(d)}`);
    return (await waitFor(async () => {
      const r = await this.birdc(this.router, ['show', 'protocols']);
      return names.every((n) => new RegExp(`^${n}\\s+BGP\\s+.*\\sup\\s+.*Established`, 'm').test(r.stdout));
    }, timeoutMs, 100)) ?? false;
  }

  /** The router's kernel next hops for the VIP (sorted), [] when it has no route. */
  async nextHops(vip = BGP_VIP): Promise<string[]> {
    const r = await run(['ip', '-n', this.router.ns, 'route', 'show', vip]);
    return [...r.stdout.matchAll(/via (\S+)/g)].map((m) => m[1]!).sort();
  }

  /** Waits (bounded) until the router's next hops for the VIP are exactly `want`. */
  async waitNextHops(want: readonly string[], timeoutMs = 10_000, stepMs = 20): Promise<boolean> {
    const w = [...want].sort().join(',');
    return (await waitFor(async () => (await this.nextHops()).join(',') === w, timeoutMs, stepMs)) ?? false;
  }

  /** Waits (bounded) until the next hops are exactly `want` and stay so for stableMs. */
  async waitStableNextHops(want: readonly string[], stableMs: number, timeoutMs = 15_000): Promise<boolean> {
    const w = [...want].sort().join(',');
    let since: number | null = null;
    return (await waitFor(async () => {
      const now = epochNow();
      if ((await this.nextHops()).join(',') !== w) since = null;
      else since ??= now;
      return since !== null && now - since >= stableMs;
    }, timeoutMs, 50)) ?? false;
  }

  addVip(d: LabHost, cidr = BGP_VIP_CIDR): Promise<string> {
    return must(['ip', '-n', d.ns, 'addr', 'add', cidr, 'dev', VIP_DEVICE]);
  }

  delVip(d: LabHost, cidr = BGP_VIP_CIDR): Promise<string> {
    return must(['ip', '-n', d.ns, 'addr', 'del', cidr, 'dev', VIP_DEVICE]);
  }

  /** Stops a director's BIRD by PID (SIGKILL: the daemon dies without a word to the router). */
  async killBird(host: LabHost): Promise<void> {
    const b = this.birds.get(host.name);
    if (!b?.proc.kill('SIGKILL')) return;
    await within(b.proc.exited, 3000, null);
  }

  /** The director's uplink down (its eth0 in its namespace). */
  linkDown(d: LabHost): Promise<string> {
    return must(['ip', '-n', d.ns, 'link', 'set', 'eth0', 'down']);
  }

  linkUp(d: LabHost): Promise<string> {
    return must(['ip', '-n', d.ns, 'link', 'set', 'eth0', 'up']);
  }

  /** The flow probe in the client namespace, sending to the VIP. */
  async startFlows(opts: { flows?: number; intervalMs?: number } = {}): Promise<FlowHandle> {
    const out = join(this.lab.dir, `flows-${this.procs.length}.json`);
    const argv = [process.execPath, distScript('flows'), '--to', BGP_VIP, '--out', out, '--flows', String(opts.flows ?? 64), '--interval', String(opts.intervalMs ?? 1)];
    const proc = await spawnReady(this.clientNs, argv, 5000, (p) => this.procs.push(p));
    return { proc, stop: () => stopForJson<FlowResult>(proc, out, 'flows') };
  }

  /** Stops BIRD and the flow probes by PID, deletes the client namespace, then the lab. */
  async destroy(): Promise<void> {
    const alive = this.procs.filter((p) => p.alive());
    for (const p of alive) p.kill('SIGKILL');
    await Promise.all(alive.map((p) => within(p.exited, 3000, null)));
    process.off('exit', this.onExit);
    await run(['ip', 'netns', 'del', this.clientNs]);
    const report = await this.lab.destroy();
    const left = (await run(['ip', 'netns', 'list'])).stdout.includes(this.clientNs);
    if (left || report.leftNamespaces.length || report.leftPids.length) {
      throw new Error(`bgp lab left behind: ${JSON.stringify({ ...report, client: left })}`);
    }
  }
}
