/**
 * keepalived (Debian's 2.2.x) on the lab's directors, for the side-by-side bench.
 *
 * One VRRP instance per director, unicast between the directors' own addresses
 * (unicast_src_ip / unicast_peer) so adverts stay on the lab's namespace addresses; both start
 * in BACKUP and the higher priority wins, with preempt (keepalived's default) so the preferred
 * director takes the VIP back, as haagent's cells do. Foreground with `-n -l -D -P` and its own
 * -f/-p/-r/-c paths per node (measured on Debian 12 bookworm), inside a PID namespace (common.ts).
 *
 * advert_int below 1 s needs VRRPv3 (`vrrp_version 3`); VRRPv2 rounds it to whole seconds
 * and keepalived refuses anything below 0.01.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIP_CIDR, type Lab, type LabHost } from '../lab.js';
import { type AgentCluster, WrappedDaemon } from './common.js';

export interface KeepalivedOptions {
  /** advert_int in seconds (0.01 .. 255). */
  advertInt: number;
  /** 2 or 3; sub-second adverts need 3. */
  version: 2 | 3;
  /** by director index; default 150, 100, 50. */
  priorities?: number[];
}

/**
 * RFC 5798 section 6.1: Master_Down_Interval = 3 x Advertisement_Interval + Skew_Time, with
 * Skew_Time = ((256 - priority) x Advertisement_Interval) / 256. For the backup's priority.
 */
export function masterDownMs(advertInt: number, priority: number): number {
  return (3 * advertInt + ((256 - priority) * advertInt) / 256) * 1000;
}

export function keepalivedConf(lab: Lab, i: number, opts: KeepalivedOptions): string {
  const me = lab.directors[i];
  const peers = lab.directors.filter((d) => d !== me).map((d) => `    ${d.ip}`);
  const priority = opts.priorities?.[i] ?? [150, 100, 50][i];
  return [
    'global_defs {',
    `  router_id ${me.name}`,
    `  vrrp_version ${opts.version}`,
    '}',
    'vrrp_instance web {',
    '  state BACKUP',
    '  interface eth0',
    '  virtual_router_id 51',
    `  priority ${priority}`,
    `  advert_int ${opts.advertInt}`,
    `  unicast_src_ip ${me.ip}`,
    '  unicast_peer {',
    ...peers,
    '  }',
    '  virtual_ipaddress {',
    `    ${VIP_CIDR} dev eth0`,
    '  }',
    '}',
    '',
  ].join('\n');
}

class KeepalivedNode extends WrappedDaemon {
  constructor(lab: Lab, host: LabHost, private readonly dir: string) {
    super(lab, host, join(dir, 'keepalived.log'));
  }

  protected command(): string[] {
    const f = (name: string): string => join(this.dir, name);
    return ['keepalived', '-n', '-l', '-D', '-P', '-f', f('keepalived.conf'), '-p', f('keepalived.pid'), '-r', f('vrrp.pid'), '-c', f('checkers.pid')];
  }

  protected override prepare(): void {
    // A SIGKILLed keepalived leaves its pid files; they must not make the next start refuse.
    for (const name of ['keepalived.pid', 'vrrp.pid', 'checkers.pid']) rmSync(join(this.dir, name), { force: true });
  }
}

export class KeepalivedCluster implements AgentCluster {
  readonly kind = 'keepalived';
  readonly dir: string;
  readonly nodes: KeepalivedNode[];
  readonly detectMs: number;
  readonly settings: string;

  constructor(lab: Lab, readonly opts: KeepalivedOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'hatkeepalived-'));
    this.nodes = lab.directors.map((d, i) => {
      const dir = join(this.dir, d.name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, 'keepalived.conf'), keepalivedConf(lab, i, opts), { mode: 0o600 });
      return new KeepalivedNode(lab, d, dir);
    });
    this.detectMs = masterDownMs(opts.advertInt, opts.priorities?.[1] ?? 100);
    this.settings = `vrrp_version ${opts.version}, advert_int ${opts.advertInt}, priority 150/100, preempt (default), unicast_peer, garp defaults`;
  }

  async startAll(): Promise<void> {
    for (const n of this.nodes) await n.start();
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop().catch(() => n.kill())));
  }

  cleanup(): void {
    if (!process.env.HAAGENT_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
