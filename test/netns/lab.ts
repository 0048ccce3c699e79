/**
 * The drill lab: one switch namespace with a bridge, a client ("router") namespace and
 * 2-3 director namespaces (plus optional real servers), each joined to the bridge by a
 * veth pair. Nothing is added to the root namespace. Use it as
 *
 *   const lab = await Lab.create({ directors: 2 });
 *   try { ... } finally { await lab.destroy(); }
 *
 * Addresses (198.51.100.0/24): client .1 (MAC 02:00:00:00:00:01), director i .10+i
 * (02:00:00:00:00:1i), real server i .20+i (02:00:00:00:00:2i); the drill VIP is .100/32.
 * Each host also has an IPv6 address, 2001:db8:: followed by the last IPv4 octet
 * (2001:db8::10 for d0), configured only when a drill calls addIpv6(). With `internal`, a
 * second segment (203.0.113.0/24) behind the directors' eth1 (lab-internal.ts).
 *
 * With `backbone: true` the directors also share a second link, as a crossover or backbone
 * between directors would: a second bridge (br1) in the switch namespace and an `eth1` in
 * each director, director i at 203.0.113.10+i/24 (MAC 02:00:00:00:01:1i). Nothing else is
 * on it: the client and the real servers reach the directors on eth0 only. `backbone` and
 * `internal` both use eth1, so a lab has at most one of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbeResult } from './analyze.js';
import type { ArpEntry } from './arptable.js';
import { assertBuilt, distScript } from './build.js';
import { startArpCapture, startCapture, type ArpCapture, type Capture, type CaptureOptions } from './capture.js';
import { must, run, waitFor, within, type CommandResult } from './exec.js';
import { spawnInNs, spawnReady, stopForJson, type LabProcess, type SpawnOptions } from './proc.js';
import { deleteNamespaces, makePrefix, parseNsName, removeMarker, sweep, writeMarker } from './sweep.js';
import { buildInternal, internalSegment, type InternalOptions, type InternalSegment } from './lab-internal.js';

export type { ArpCapture, Capture, CaptureOptions, LabProcess, SpawnOptions };
export { distScript, drillSkipReason, REPO_ROOT } from './build.js';

export const VIP = '198.51.100.100';
export const VIP_CIDR = `${VIP}/32`;
export const UDP_PORT = 7000;
export const TCP_PORT = 7001;

export interface LabHost {
  /** short name: c, d0, d1, r0, ... */
  name: string;
  ns: string;
  ip: string;
  /** on eth0 only after Lab.addIpv6(). */
  ip6: string;
  mac: string;
  role: 'client' | 'director' | 'real' | 'internal';
  /** the director's eth1 address on the backbone (LabOptions.backbone), else undefined. */
  backboneIp?: string;
}

export interface LabOptions {
  directors: 2 | 3;
  realServers?: number;
  /** a second link between the directors only (eth1, 203.0.113.0/24); default none. */
  backbone?: boolean;
  /** must look like makePrefix() output so that sweep() recognises it. */
  prefix?: string;
  /** an internal segment behind the directors' eth1, with real servers on it (lab-internal.ts). */
  internal?: InternalOptions;
}

export interface ProbeHandle {
  proc: LabProcess;
  /** SIGTERM, wait for the result file, parse it. */
  stop(): Promise<ProbeResult>;
}

export interface DestroyReport {
  /** namespaces of this lab still listed after deletion (should be empty). */
  leftNamespaces: string[];
  /** processes started by this lab that did not exit after SIGKILL (should be empty). */
  leftPids: number[];
}

/** The backbone's /24 (LabOptions.backbone). */
export const BACKBONE_NET = '203.0.113';

function mac(last: number, link = 0): string {
  return `02:00:00:00:0${link}:${last.toString(16).padStart(2, '0')}`;
}

export class Lab {
  readonly client: LabHost;
  readonly directors: LabHost[];
  readonly realServers: LabHost[];
  readonly switchNs: string;
  /** the internal segment, when the lab has one (lab-internal.ts). */
  readonly internal: InternalSegment | null;
  /** whether the directors have eth1 on the backbone bridge. */
  readonly backbone: boolean;
  /** scratch directory for probe results and logs, removed by destroy(). */
  readonly dir: string;
  private readonly procs: LabProcess[] = [];
  /** the responder running on each host (by short name), for the faults that take the service down too. */
  private readonly responders = new Map<string, LabProcess>();
  private readonly onExit = (): void => this.procs.forEach((p) => p.kill('SIGKILL'));

  private constructor(readonly prefix: string, opts: LabOptions) {
    const host = (name: string, ip: string, m: string, role: LabHost['role']): LabHost =>
      ({ name, ns: prefix + name, ip, ip6: `2001:db8::${ip.split('.')[3]}`, mac: m, role });
    this.switchNs = `${prefix}sw`;
    this.backbone = opts.backbone ?? false;
    this.client = host('c', '198.51.100.1', mac(0x01), 'client');
    this.directors = Array.from({ length: opts.directors }, (_, i) => ({
      ...host(`d${i}`, `198.51.100.${10 + i}`, mac(0x10 + i), 'director'),
      ...(this.backbone ? { backboneIp: `${BACKBONE_NET}.${10 + i}` } : {}),
    }));
    this.realServers = Array.from({ length: opts.realServers ?? 0 }, (_, i) => host(`r${i}`, `198.51.100.${20 + i}`, mac(0x20 + i), 'real'));
    this.internal = opts.internal ? internalSegment(prefix, opts.directors, opts.internal) : null;
    // Named after the prefix so that sweep() can remove it after a crashed run.
    this.dir = mkdtempSync(join(tmpdir(), `hatlab-${prefix}`));
    // If the creator dies without destroy(), at least nothing it started keeps running.
    process.on('exit', this.onExit);
  }

  static async create(opts: LabOptions): Promise<Lab> {
    if (opts.directors !== 2 && opts.directors !== 3) throw new Error('directors must be 2 or 3');
    if (opts.backbone && opts.internal) throw new Error('backbone and internal both use eth1: choose one');
    assertBuilt();
    await sweep();
    const prefix = opts.prefix ?? makePrefix();
    if (parseNsName(`${prefix}sw`) === null) throw new Error(`prefix ${prefix} does not match the lab pattern`);
    writeMarker(prefix);
    const lab = new Lab(prefix, opts);
    try {
      await lab.build();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  get hosts(): LabHost[] {
    return [this.client, ...this.directors, ...this.realServers];
  }

  private get namespaces(): string[] {
    const internal = this.internal ? [this.internal.switchNs, ...this.internal.hosts.map((h) => h.ns)] : [];
    return [this.switchNs, ...this.hosts.map((h) => h.ns), ...internal];
  }

  /** A host by short name (c, d0, r1, n0) or namespace name. */
  host(name: string): LabHost {
    const h = [...this.hosts, ...(this.internal?.hosts ?? [])].find((x) => x.name === name || x.ns === name);
    if (!h) throw new Error(`no host ${name} in lab ${this.prefix}`);
    return h;
  }

  private nsOf(x: string | LabHost): string {
    if (typeof x !== 'string') return x.ns;
    return x === 'sw' || x === this.switchNs ? this.switchNs : this.host(x).ns;
  }

  private async build(): Promise<void> {
    for (const ns of this.namespaces) await must(['ip', 'netns', 'add', ns]);
    const sw = this.switchNs;
    await must(['ip', '-n', sw, 'link', 'set', 'lo', 'up']);
    await must(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    await must(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const h of this.hosts) {
      const port = `v-${h.name}`;
      await must(['ip', '-n', h.ns, 'link', 'set', 'lo', 'up']);
      await must(['ip', '-n', h.ns, 'link', 'add', 'eth0', 'address', h.mac, 'type', 'veth', 'peer', 'name', port, 'netns', sw]);
      await must(['ip', '-n', sw, 'link', 'set', port, 'master', 'br0']);
      await must(['ip', '-n', sw, 'link', 'set', port, 'up']);
      await must(['ip', '-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
      await must(['ip', '-n', h.ns, 'link', 'set', 'eth0', 'up']);
    }
    if (this.backbone) await this.buildBackbone();
    if (this.internal) await buildInternal(this.internal, this.directors);
    const links = this.hosts.flatMap((h) => [{ h, dev: 'eth0' }, ...(h.backboneIp ? [{ h, dev: 'eth1' }] : [])]);
    for (const { h, dev } of links) {
      const up = await waitFor(async () => (await run(['ip', '-n', h.ns, 'link', 'show', dev])).stdout.includes('state UP'), 3000, 20);
      if (!up) throw new Error(`${dev} in ${h.ns} did not come up`);
    }
  }

  /** br1 beside br0 in the switch namespace, and eth1 of every director on it. */
  private async buildBackbone(): Promise<void> {
    const sw = this.switchNs;
    await must(['ip', '-n', sw, 'link', 'add', 'br1', 'type', 'bridge']);
    await must(['ip', '-n', sw, 'link', 'set', 'br1', 'up']);
    for (const [i, d] of this.directors.entries()) {
      const port = `b-${d.name}`;
      await must(['ip', '-n', d.ns, 'link', 'add', 'eth1', 'address', mac(0x10 + i, 1), 'type', 'veth', 'peer', 'name', port, 'netns', sw]);
      await must(['ip', '-n', sw, 'link', 'set', port, 'master', 'br1']);
      await must(['ip', '-n', sw, 'link', 'set', port, 'up']);
      await must(['ip', '-n', d.ns, 'addr', 'add', `${d.backboneIp}/24`, 'dev', 'eth1']);
      await must(['ip', '-n', d.ns, 'link', 'set', 'eth1', 'up']);
    }
  }

  /** Runs argv inside a namespace (host name or ns name); never throws. */
  exec(ns: string | LabHost, argv: readonly string[], timeoutMs = 5000): Promise<CommandResult> {
    return run(['ip', 'netns', 'exec', this.nsOf(ns), ...argv], timeoutMs);
  }

  /** Starts argv inside a namespace; destroy() SIGKILLs it by PID if it is still running. */
  spawn(ns: string | LabHost, argv: readonly string[], opts: SpawnOptions = {}): LabProcess {
    const p = spawnInNs(this.nsOf(ns), argv, opts);
    this.procs.push(p);
    return p;
  }

  /** Starts a compiled harness script (responder, probe) in ns and waits for its "ready". */
  spawnScript(ns: string | LabHost, script: string, args: readonly string[], timeoutMs = 5000): Promise<LabProcess> {
    const argv = [process.execPath, distScript(script), ...args];
    return spawnReady(this.nsOf(ns), argv, timeoutMs, (p) => this.procs.push(p));
  }

  /** One responder per director (or the hosts given), named after the host. */
  startResponders(hosts: LabHost[] = this.directors): Promise<LabProcess[]> {
    return Promise.all(hosts.map(async (h) => {
      const p = await this.spawnScript(h, 'responder', ['--name', h.name]);
      this.responders.set(h.name, p);
      return p;
    }));
  }

  /** SIGKILLs host's responder by PID (the service dies with its box); resolves once it exited (bounded). */
  async killResponder(host: LabHost): Promise<void> {
    const p = this.responders.get(host.name);
    if (!p?.kill('SIGKILL')) return;
    await within(p.exited, 3000, null);
  }

  /** Starts host's responder again if it is not running; true when it had to. */
  async ensureResponder(host: LabHost): Promise<boolean> {
    if (this.responders.get(host.name)?.alive()) return false;
    await this.startResponders([host]);
    return true;
  }

  /** Starts the probe in the client namespace; stop() returns its records. */
  async startProbe(opts: { durationMs?: number; intervalMs?: number; tcp?: boolean; vip?: string } = {}): Promise<ProbeHandle> {
    const out = join(this.dir, `probe-${this.procs.length}.json`);
    const args = ['run', '--vip', opts.vip ?? VIP, '--out', out, '--interval', String(opts.intervalMs ?? 2)];
    if (opts.durationMs !== undefined) args.push('--duration', String(opts.durationMs));
    if (opts.tcp) args.push('--tcp');
    const proc = await this.spawnScript(this.client, 'probe', args);
    return {
      proc,
      stop: () => stopForJson<ProbeResult>(proc, out, 'probe'),
    };
  }

  /** The neighbour entry for ip as ns sees it, read with arp-a inside ns; null when none. */
  async arpEntry(ns: string | LabHost, ip: string): Promise<ArpEntry | null> {
    const r = await this.exec(ns, [process.execPath, distScript('probe'), 'arp', '--ip', ip]);
    if (r.code !== 0) throw new Error(`arp lookup in ${this.nsOf(ns)} failed: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as ArpEntry | null;
  }

  /**
   * tcpdump on iface of ns (a host, or 'sw' for the switch, whose br0 sees every frame the
   * bridge forwards while tcpdump holds it promiscuous), one line per packet; resolved once
   * tcpdump listens.
   */
  startCapture(ns: string | LabHost, filter: string, opts: CaptureOptions = {}): Promise<Capture> {
    return startCapture((argv, o) => this.spawn(ns, argv, o), this.nsOf(ns), filter, opts);
  }

  /** tcpdump of ARP on ns's eth0 (default: the client), with the kernel's capture stamps. */
  startArpCapture(ns: string | LabHost = this.client): Promise<ArpCapture> {
    return startArpCapture((argv, o) => this.spawn(ns, argv, o), this.nsOf(ns));
  }

  /**
   * Puts each host's ip6 (/64) on its eth0 and waits (bounded) until duplicate address
   * detection is over: a tentative address cannot be bound, so an agent started earlier
   * would fail to open its heartbeat socket.
   */
  async addIpv6(hosts: readonly LabHost[] = this.directors, timeoutMs = 10_000): Promise<void> {
    for (const h of hosts) await must(['ip', '-n', h.ns, 'addr', 'add', `${h.ip6}/64`, 'dev', 'eth0']);
    for (const h of hosts) {
      const settled = await waitFor(async () => {
        const r = await run(['ip', '-n', h.ns, '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'tentative']);
        return r.code === 0 && r.stdout.trim() === '';
      }, timeoutMs, 50);
      if (!settled) throw new Error(`${h.ip6} on ${h.ns} is still tentative after ${timeoutMs} ms`);
    }
  }

  /** The MAC ns's neighbour table holds for ip, via `ip neigh` (cheap enough to poll). */
  async neighMac(ns: string | LabHost, ip: string): Promise<string | null> {
    const r = await run(['ip', '-n', this.nsOf(ns), 'neigh', 'show', ip]);
    return /lladdr ([0-9a-f:]{17})/.exec(r.stdout)?.[1] ?? null;
  }

  /** Whether ip/len is configured on eth0 (or dev) of the host. */
  async hasAddress(host: LabHost, cidr = VIP_CIDR, dev = 'eth0'): Promise<boolean> {
    const r = await run(['ip', '-n', host.ns, '-o', 'addr', 'show', 'dev', dev]);
    return r.stdout.split(/\s+/).includes(cidr);
  }

  /** Kills every process this lab started (by PID), waits for them, deletes the namespaces. */
  async destroy(): Promise<DestroyReport> {
    const alive = this.procs.filter((p) => p.alive());
    for (const p of alive) p.kill('SIGKILL');
    const exits = await Promise.all(alive.map((p) => within(p.exited.then(() => true), 3000, false)));
    const leftPids = alive.filter((_, i) => !exits[i]).map((p) => p.pid);
    const leftNamespaces = await deleteNamespaces(this.namespaces);
    removeMarker(this.prefix);
    process.off('exit', this.onExit);
    if (!process.env.HAAGENT_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
    return { leftNamespaces, leftPids };
  }
}
