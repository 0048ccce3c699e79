/**
 * ucarp (Debian's 1.5.2) on the lab's directors, for the side-by-side bench.
 *
 * ucarp has no unicast mode: it multicasts to 224.0.0.18, which stays on the lab's bridge.
 * Its advbase is whole seconds, so the fastest ucarp is also its default (advbase 1). The
 * preferred director has the lower advskew; --preempt lets it take the VIP back. ucarp only
 * calls scripts: the up/down scripts written here add and delete the VIP (ucarp itself sends
 * the gratuitous ARP). It exits when its link goes down (measured on Debian 12 bookworm).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIP, type Lab, type LabHost } from '../lab.js';
import { type AgentCluster, WrappedDaemon } from './common.js';

export interface UcarpOptions {
  /** whole seconds. */
  advbase: number;
  /** missed adverts before the master is dead (ucarp's default 3). */
  deadratio: number;
  /** by director index; default 0, 10, 20 (lower wins). */
  skews?: number[];
}

/** ucarp's master-down timer for a backup with this skew: deadratio x (advbase + skew/256) s. */
export function ucarpDownMs(o: UcarpOptions, skew: number): number {
  return o.deadratio * (o.advbase + skew / 256) * 1000;
}

class UcarpNode extends WrappedDaemon {
  constructor(
    lab: Lab,
    host: LabHost,
    dir: string,
    private readonly shared: string,
    private readonly opts: UcarpOptions,
    private readonly skew: number,
  ) {
    super(lab, host, join(dir, 'ucarp.log'));
  }

  protected command(): string[] {
    const o = this.opts;
    return [
      'ucarp', '--interface=eth0', `--srcip=${this.host.ip}`, '--vhid=51', `--passfile=${join(this.shared, 'pass')}`,
      `--addr=${VIP}`, `--advbase=${o.advbase}`, `--advskew=${this.skew}`, `--deadratio=${o.deadratio}`,
      '--preempt', '--neutral', '--shutdown',
      `--upscript=${join(this.shared, 'vip-up.sh')}`, `--downscript=${join(this.shared, 'vip-down.sh')}`,
    ];
  }
}

export class UcarpCluster implements AgentCluster {
  readonly kind = 'ucarp';
  readonly dir: string;
  readonly nodes: UcarpNode[];
  readonly detectMs: number;
  readonly settings: string;

  constructor(lab: Lab, readonly opts: UcarpOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'hatucarp-'));
    writeFileSync(join(this.dir, 'pass'), randomBytes(8).toString('hex'), { mode: 0o600, flag: 'wx' });
    // ucarp calls: script <interface> <vip> [xparam]. `replace` is idempotent; del is exact.
    writeFileSync(join(this.dir, 'vip-up.sh'), '#!/bin/sh\nexec ip addr replace "$2"/32 dev "$1"\n', { mode: 0o700, flag: 'wx' });
    writeFileSync(join(this.dir, 'vip-down.sh'), '#!/bin/sh\nexec ip addr del "$2"/32 dev "$1"\n', { mode: 0o700, flag: 'wx' });
    const skews = opts.skews ?? [0, 10, 20];
    this.nodes = lab.directors.map((d, i) => {
      const dir = join(this.dir, d.name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return new UcarpNode(lab, d, dir, this.dir, opts, skews[i]);
    });
    this.detectMs = ucarpDownMs(opts, skews[1]);
    this.settings = `advbase ${opts.advbase}, deadratio ${opts.deadratio}, advskew ${skews.slice(0, lab.directors.length).join('/')}, --preempt --neutral --shutdown, multicast 224.0.0.18`;
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
