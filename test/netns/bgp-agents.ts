/**
 * haagent in the BGP lab: a HaagentCluster whose group is `mode: bgp`, its VIP the lab's
 * 203.0.113.100/32 on the VIP device BIRD exports from, its readback pointed at the
 * director's own BIRD socket; optionally a `weight: fault` exec check per director that
 * fails while a flag file exists (so a drill can fail one director's health on purpose).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { GROUP, HAAGENT_MAIN, HaagentCluster, type HaagentNode, type StatusRecord } from './agents/haagent.js';
import { BGP_VIP_CIDR, VIP_DEVICE, type BgpLab } from './bgp-lab.js';
import { waitFor } from './exec.js';

export type BgpStyle = 'active-standby' | 'ecmp';

export interface BgpAgentOptions {
  style: BgpStyle;
  /** add the flag-file check with this interval (e.g. '200ms'); none when undefined. */
  checkInterval?: string;
  /** the readback's poll (default 500ms, the shortest the agent accepts). */
  poll?: string;
  /** bgp.daemon per node (default: the director's BIRD, protocol upstream). */
  daemon?: (n: HaagentNode) => Record<string, unknown>;
}

/** The agents' timers in these drills: 50 ms heartbeats, 150 ms dead time. */
export const BGP_TIMERS = { interval: '50ms', deadTime: '150ms', initDead: '300ms' };

export class BgpAgents {
  readonly cluster: HaagentCluster;

  constructor(readonly bgp: BgpLab, readonly opts: BgpAgentOptions) {
    this.cluster = new HaagentCluster(bgp.lab, BGP_TIMERS);
    for (const n of this.cluster.nodes) {
      const cfg = parse(readFileSync(n.configPath, 'utf8')) as { groups: Record<string, unknown>[] };
      const g = cfg.groups[0]!;
      delete g.garp;
      g.mode = 'bgp';
      g.vip = BGP_VIP_CIDR;
      g.bgp = {
        style: opts.style,
        device: VIP_DEVICE,
        daemon: opts.daemon?.(n) ?? { kind: 'bird', socket: bgp.socketOf(n.host), protocol: 'upstream' },
        poll: opts.poll ?? '500ms',
      };
      if (opts.checkInterval) {
        g.checks = [{
          name: 'service', type: 'exec', command: ['/bin/sh', '-c', `test ! -e ${this.flag(n)}`],
          interval: opts.checkInterval, timeout: '1s', rise: 1, fall: 1, weight: 'fault',
        }];
      }
      writeFileSync(n.configPath, stringify(cfg), { mode: 0o600 });
    }
  }

  get nodes(): HaagentNode[] {
    return this.cluster.nodes;
  }

  /** The file whose presence fails n's check. */
  flag(n: HaagentNode): string {
    return join(this.cluster.dir, `${n.name}-unhealthy`);
  }

  failCheck(n: HaagentNode): void {
    writeFileSync(this.flag(n), '');
  }

  healCheck(n: HaagentNode): void {
    rmSync(this.flag(n), { force: true });
  }

  /** Whether n holds the VIP on the VIP device right now. */
  holds(n: HaagentNode): Promise<boolean> {
    return this.bgp.lab.hasAddress(n.host, BGP_VIP_CIDR, VIP_DEVICE);
  }

  /**
   * What `haagent status --json` (the real CLI, in n's namespace) says of the VIP's
   * announcement, as read back from the director's BIRD: yes, no, unknown; null when the
   * status has no bgp section for the group.
   */
  async announced(n: HaagentNode): Promise<string | null> {
    return announcedIn(await this.cliStatus(n));
  }

  /**
   * `haagent status --json` through the CLI in n's namespace. Unlike HaagentNode.cliStatus it
   * keeps the record when the exit status is 1, which status uses for a group in fault.
   */
  async cliStatus(n: HaagentNode): Promise<StatusRecord | null> {
    const r = await this.bgp.lab.exec(n.host, [process.execPath, HAAGENT_MAIN, 'status', '--json', '--config', n.configPath], 5000);
    try {
      return r.code === 0 || r.code === 1 ? (JSON.parse(r.stdout) as StatusRecord) : null;
    } catch {
      return null;
    }
  }

  /**
   * Waits (bounded) until the agent's status, asked on its control socket (cheap to poll),
   * reads `want`; then asks the real CLI once, which must say the same.
   */
  async waitAnnounced(n: HaagentNode, want: string, timeoutMs = 8000): Promise<boolean> {
    const seen = await waitFor(async () => announcedIn(await n.status()) === want, timeoutMs, 100);
    return !!seen && (await this.announced(n)) === want;
  }

  async stopAll(): Promise<void> {
    await this.cluster.stopAll();
  }

  cleanup(): void {
    this.cluster.cleanup();
  }
}

/** The VIP's `announced` in a status record's bgp section; null when there is none. */
function announcedIn(st: StatusRecord | null): string | null {
  return st?.bgp?.find((g) => g.group === GROUP)?.vips.find((v) => v.vip === BGP_VIP_CIDR)?.announced ?? null;
}
