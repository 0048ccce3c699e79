/**
 * haagent in the BGP lab: a HaagentCluster whose group is `mode: bgp`, its VIP the lab's
 * 203.0.113.100/32 on the VIP device BIRD exports from, its readback pointed at the
 * director's own BIRD socket; optionally a `weight: fault` exec check per director that
 * fails while a flag file exists (so a drill can fail one director's health on purpose).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { GROUP, HaagentCluster, type HaagentNode } from './agents/haagent.js';
import { BGP_VIP_CIDR, VIP_DEVICE, type BgpLab } from './bgp-lab.js';
import { waitFor } from './exec.js';

export type BgpStyle = 'active-standby' | 'ecmp';

export interface BgpAgentOptions {
  style: BgpStyle;
  /** add the flag-file check with this interval (e.g. '200ms'); none when undefined. */
  checkInterval?: string;
  /** the readback's poll (default 500ms, the shortest the agent accepts). */
  poll?: string;
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
        daemon: { kind: 'bird', socket: bgp.socketOf(n.host), protocol: 'upstream' },
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
   * announcement: the first `announced` field of the group, or null when there is none.
   */
  async announced(n: HaagentNode): Promise<unknown> {
    const st = await n.cliStatus();
    const g = st?.groups.find((x) => x.name === GROUP) as unknown;
    return findKey(g, 'announced', 4);
  }

  /** Waits (bounded) until `announced` reads `want` on n. */
  async waitAnnounced(n: HaagentNode, want: unknown, timeoutMs = 8000): Promise<boolean> {
    return (await waitFor(async () => (await this.announced(n)) === want, timeoutMs, 250)) ?? false;
  }

  async stopAll(): Promise<void> {
    await this.cluster.stopAll();
  }

  cleanup(): void {
    this.cluster.cleanup();
  }
}

/** The first value under `key` in a JSON tree, depth-first, at most `depth` levels down. */
function findKey(v: unknown, key: string, depth: number): unknown {
  if (depth < 0 || typeof v !== 'object' || v === null) return null;
  if (!Array.isArray(v) && key in v) return (v as Record<string, unknown>)[key];
  for (const child of Object.values(v)) {
    const found = findKey(child, key, depth - 1);
    if (found !== null && found !== undefined) return found;
  }
  return null;
}
