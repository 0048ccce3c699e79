/**
 * The bgp groups' readback in the agent: every `bgp.poll`, each bgp group that names a
 * daemon is read back (readback.ts), one read at a time per group and never two at once, off
 * the heartbeat and takeover paths (it only feeds status and metrics; it never changes the
 * election). A change of what the daemon says is logged, an unreadable answer with the
 * daemon's error. The status joins it with what the core installed.
 */
import { vipCidr } from '../config/vip.js';
import { groupVips, isBgpGroup, type BgpGroupConfig } from '../config/vip-device.js';
import type { BgpStyle, GroupConfig, Millis } from '../config/types.js';
import type { CoreView } from '../core/read-view.js';
import type { Clock, CommandRunner, TimerHandle, Timers } from '../ports/index.js';
import type { Logger } from '../log.js';
import { readbackFor, type Announced, type RouteReadback, type VipAnnouncement } from './readback.js';

/** One VIP of a bgp group as status shows it. JSON keys: add, never rename or remove. */
export interface BgpVipStatus {
  vip: string;
  /** the VIP is on bgp.device (the core's last confirmed state; null: not known yet). */
  installed: boolean | null;
  /** what the daemon said at the last read; `unknown` without a daemon or before the first read. */
  announced: Announced;
  detail: string;
  checkedMsAgo: Millis | null;
}

export interface BgpGroupStatus {
  group: string;
  style: BgpStyle;
  device: string;
  daemon: 'bird' | 'frr' | null;
  vips: BgpVipStatus[];
}

export interface BgpServiceDeps {
  runner: CommandRunner;
  timers: Timers;
  clock: Clock;
  log: Logger;
  /** tests give a fake; default: birdc or vtysh through the runner. */
  readbackFor?: (g: BgpGroupConfig) => RouteReadback;
}

interface Poll {
  cfg: BgpGroupConfig;
  readback: RouteReadback;
  timer: TimerHandle | null;
  last: Map<string, VipAnnouncement>;
  at: Millis | null;
  closed: boolean;
}

/** The longest a single birdc or vtysh run may take (the daemon answers in milliseconds). */
const READ_TIMEOUT_MS = 5_000;

export class BgpReadbackService {
  private polls = new Map<string, Poll>();

  constructor(private readonly deps: BgpServiceDeps) {}

  /** Starts (or, after a reload, restarts) a poll per bgp group with a daemon; stops the rest. */
  configure(groups: readonly GroupConfig[]): void {
    for (const p of this.polls.values()) this.stop(p);
    this.polls = new Map();
    for (const g of groups) {
      if (!isBgpGroup(g) || g.bgp.daemon === null) continue;
      const daemon = g.bgp.daemon;
      const readback = this.deps.readbackFor?.(g) ?? readbackFor(daemon, this.deps.runner, Math.min(READ_TIMEOUT_MS, g.bgp.poll));
      const p: Poll = { cfg: g, readback, timer: null, last: new Map(), at: null, closed: false };
      this.polls.set(g.name, p);
      this.schedule(p, 0);
    }
  }

  close(): void {
    for (const p of this.polls.values()) this.stop(p);
    this.polls.clear();
  }

  /** Every bgp group of the core, with what was installed and what the daemon said. */
  status(core: CoreView): BgpGroupStatus[] {
    const now = this.deps.clock.now();
    return core.groups.flatMap((g) => {
      if (!isBgpGroup(g.cfg)) return [];
      const p = this.polls.get(g.name);
      const vips = groupVips(g.cfg).map((v): BgpVipStatus => {
        const key = vipCidr(v.vip);
        const a = p?.last.get(key) ?? { announced: 'unknown' as const, detail: p ? 'not read yet' : 'no daemon configured (bgp.daemon)' };
        return { vip: key, installed: g.vipHave, announced: a.announced, detail: a.detail, checkedMsAgo: p?.at == null ? null : now - p.at };
      });
      return [{ group: g.name, style: g.cfg.bgp.style, device: g.cfg.bgp.device, daemon: g.cfg.bgp.daemon?.kind ?? null, vips }];
    });
  }

  private stop(p: Poll): void {
    p.closed = true;
    if (p.timer !== null) this.deps.timers.clearTimeout(p.timer);
    p.timer = null;
  }

  private schedule(p: Poll, ms: Millis): void {
    if (p.closed) return;
    p.timer = this.deps.timers.setTimeout(() => void this.readOnce(p), ms);
  }

  private async readOnce(p: Poll): Promise<void> {
    p.timer = null;
    let got: Map<string, VipAnnouncement>;
    try {
      got = await p.readback.read(groupVips(p.cfg).map((v) => v.vip));
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      got = new Map(groupVips(p.cfg).map((v) => [vipCidr(v.vip), { announced: 'unknown' as const, detail }]));
    }
    if (p.closed) return;
    for (const [vip, a] of got) {
      const was = p.last.get(vip);
      if (was?.announced === a.announced) continue;
      const fields = { group: p.cfg.name, vip, announced: a.announced, detail: a.detail, daemon: p.cfg.bgp.daemon?.kind };
      if (a.announced === 'unknown') this.deps.log.warn(fields, `bgp readback: cannot tell whether ${vip} is announced: ${a.detail}`);
      else this.deps.log.info(fields, `bgp readback: ${vip} ${a.announced === 'yes' ? 'announced' : 'not announced'} (${a.detail})`);
    }
    p.last = got;
    p.at = this.deps.clock.now();
    this.schedule(p, p.cfg.bgp.poll);
  }
}

/** The BGP block of `haagent status`: one line per VIP. */
export function formatBgpStatus(groups: readonly BgpGroupStatus[]): string[] {
  const rows = [['BGP GROUP', 'STYLE', 'DEVICE', 'VIP', 'INSTALLED', 'ANNOUNCED', 'DETAIL']];
  for (const g of groups) {
    for (const v of g.vips) rows.push([g.group, g.style, g.device, v.vip, v.installed === null ? '?' : v.installed ? 'yes' : 'no', v.announced, v.detail]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}
