/**
 * Prometheus metrics of one agent, on a Registry of its own (never prom-client's global one,
 * so two agents in one test process, or a library that also uses prom-client, never collide).
 *
 * Where the numbers come from:
 * - Most are read at scrape time from the status record (the same projection `haagent status`
 *   prints), through each metric's collect() hook: states, priorities, peer ages, and the
 *   cumulative counters the agent already keeps (heartbeats and drops in the driver, GARP
 *   frames per group in the core). Those counters are mirrored, not re-counted: collect()
 *   resets the prom-client Counter and increments it by the snapshot's value, so the
 *   exposition says `counter` (rate() works) while the kept counter stays the one source of truth; there is no second count to drift
 *   and no delta state to get wrong.
 * - What the status record does not keep is counted here as events arrive: transitions
 *   (observeTransition), VIP command failures per group (observeVipFailure), health check
 *   results (setCheck). observeStep() takes both from the driver's onStep hook.
 *
 * A group a reload removed is gone from the status record, so its mirrored series vanish at
 * the next scrape; the event-counted ones (transitions, VIP failures) are dropped then too, so
 * no series of a removed group is reported forever. A check a reload removed is forgotten by
 * whoever set it (removeCheck).
 *
 * One status snapshot serves a whole scrape: the first collect() of a scrape takes it and the
 * rest reuse it (cleared on the next microtask), so all series of one scrape agree.
 *
 * Naming (Prometheus conventions): `haagent_` prefix, base units (seconds), `_total` on
 * counters. The default process and Node.js metrics keep their standard unprefixed names
 * (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, ...): every client library
 * exports them under those names, and shared dashboards and alerts expect them.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Input, StepResult } from '../core/types.js';
import type { PeerStatus, StatusRecord } from '../daemon/status-view.js';
import { DROP_REASONS } from '../wire/types.js';
import { serveMetrics, type MetricsServer } from './server.js';
import { packageVersion } from '../version.js';

/** Every state a group can be in; each gets a series (0 or 1) so a state change never makes one vanish. */
export const GROUP_STATES = ['init', 'standby', 'active', 'fault'] as const;

export interface MetricsOptions {
  /** process_* and nodejs_* metrics; default true. */
  defaultMetrics?: boolean;
  /** the version haagent_build_info reports (default: package.json's). */
  version?: string;
}

type Labels = Record<string, string>;
/** One series of a mirrored metric: its labels and its value in the snapshot. */
type Sample = [Labels, number];

export class Metrics {
  readonly registry = new Registry();
  private readonly transitions: Counter<'group' | 'from' | 'to'>;
  private readonly vipFailures: Counter<'group'>;
  private readonly checks: Gauge<'group' | 'check'>;
  private readonly reloads: Counter<'result'>;
  /** the label sets of the event-counted series, by group: what goes when the group does. */
  private readonly counted = new GroupSeries();
  private cached: StatusRecord | null = null;

  constructor(
    private readonly snapshot: () => StatusRecord,
    opts: MetricsOptions = {},
  ) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.mirrorGauges();
    this.mirrorCounters();
    const registers = [this.registry];
    const groupsNow = () => this.current().groups.map((g) => g.name);
    const counted = this.counted;
    /** Removes the series of the groups gone from the record (both counters share `counted`). */
    const dropGone = (metric: Counter<string>, name: string) => {
      for (const labels of counted.takeGone(name, new Set(groupsNow()))) metric.remove(labels);
    };
    this.transitions = new Counter({
      name: 'haagent_transitions_total',
      help: 'State transitions of a VIP group, by previous and new state.',
      labelNames: ['group', 'from', 'to'],
      registers,
      collect() {
        dropGone(this, 'transitions');
      },
    });
    this.vipFailures = new Counter({
      name: 'haagent_vip_command_failures_total',
      help: 'Failed attempts to add or remove a group\'s VIP (ip addr), each of which the election then handles.',
      labelNames: ['group'],
      registers,
      // Zero series for every group, so rate() and alerts work before the first failure.
      collect() {
        dropGone(this, 'vipFailures');
        for (const group of groupsNow()) this.inc({ group }, 0);
      },
    });
    this.checks = new Gauge({
      name: 'haagent_check_up',
      help: 'Whether a health check of a group passes now (1) or fails (0).',
      labelNames: ['group', 'check'],
      registers,
    });
    this.reloads = new Counter({ name: 'haagent_reloads_total', help: 'Reloads asked for, by result: applied, or refused (the previous configuration kept).', labelNames: ['result'], registers });
    for (const result of ['applied', 'refused']) this.reloads.inc({ result }, 0);
    const info = new Gauge({ name: 'haagent_build_info', help: 'Always 1; the labels say which haagent and which Node.js run.', labelNames: ['version', 'nodejs'], registers });
    info.set({ version: opts.version ?? packageVersion(), nodejs: process.version }, 1);
  }

  /** Counts one transition. Use this or observeStep for transitions, never both. */
  observeTransition(t: { group: string; from: string; to: string }): void {
    const labels = { group: t.group, from: t.from, to: t.to };
    this.counted.add('transitions', labels);
    this.transitions.inc(labels);
  }

  observeVipFailure(group: string): void {
    this.counted.add('vipFailures', { group });
    this.vipFailures.inc({ group });
  }

  /** Everything event-like in one driver step; made for DriverDeps.onStep. */
  observeStep(r: StepResult, input: Input): void {
    for (const t of r.transitions) this.observeTransition(t);
    if (input.kind === 'vipResult' && !input.ok) this.observeVipFailure(input.group);
  }

  /** One reload asked for (SIGHUP or `haagent reload`): applied, or refused with the old config kept. */
  observeReload(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'applied' : 'refused' });
  }

  setCheck(group: string, check: string, up: boolean): void {
    this.checks.set({ group, check }, up ? 1 : 0);
  }

  /** Forgets a check (removed from the configuration), so its last value is not reported forever. */
  removeCheck(group: string, check: string): void {
    this.checks.remove({ group, check });
  }

  /** The exposition text, as GET /metrics returns it. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Answers GET /metrics on host:port (port 0: any free port, see the result's port).
   * Rejects when the address cannot be bound; `onError` hears later server errors.
   */
  serve(host: string, port: number, onError?: (e: Error) => void): Promise<MetricsServer> {
    return serveMetrics(this, host, port, onError);
  }

  private current(): StatusRecord {
    if (this.cached === null) {
      this.cached = this.snapshot();
      queueMicrotask(() => {
        this.cached = null;
      });
    }
    return this.cached;
  }

  /** A Gauge whose series are replaced by the snapshot's at every scrape. */
  private gauge(name: string, help: string, labelNames: string[], samples: (s: StatusRecord) => Sample[]): void {
    const current = () => this.current();
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        // reset first: a peer or group gone from the record must not keep its last value.
        this.reset();
        for (const [labels, v] of samples(current())) this.set(labels, v);
      },
    });
  }

  /** A Counter mirroring a cumulative count of the snapshot (see the file comment). */
  private counter(name: string, help: string, labelNames: string[], samples: (s: StatusRecord) => Sample[]): void {
    const current = () => this.current();
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, v] of samples(current())) this.inc(labels, Math.max(0, v));
      },
    });
  }

  private mirrorGauges(): void {
    this.gauge('haagent_group_state', 'Current state of a VIP group: 1 for the state it is in, 0 for the others.', ['group', 'state'], (s) =>
      s.groups.flatMap((g) => [...new Set<string>([...GROUP_STATES, g.state])].map((state): Sample => [{ group: g.name, state }, g.state === state ? 1 : 0])),
    );
    this.gauge('haagent_group_priority', 'Priority this node advertises for a group (0: not a candidate, 255: operator takeover).', ['group'], (s) =>
      s.groups.map((g): Sample => [{ group: g.name }, g.advertisedPriority]),
    );
    this.gauge('haagent_vip_confirmed', 'Announcement check of a group active here: 1 once the confirm gateway answered from every VIP, 0 while pending or unconfirmed (absent: no check).', ['group'], (s) =>
      s.groups.flatMap((g): Sample[] => (g.confirm && g.confirm.state !== 'idle' ? [[{ group: g.name }, g.confirm.state === 'confirmed' ? 1 : 0]] : [])),
    );
    this.gauge('haagent_vip_confirm_latency_seconds', 'How long the confirm gateway took to answer the last announcement check probe.', ['group'], (s) =>
      s.groups.flatMap((g): Sample[] => (g.confirm?.lastLatencyMs != null ? [[{ group: g.name }, g.confirm.lastLatencyMs / 1000]] : [])),
    );
    this.gauge('haagent_vip_present', 'Whether every VIP of the group was on this node at the last check (absent while unknown).', ['group'], (s) =>
      s.groups.filter((g) => g.vipPresent !== null).map((g): Sample => [{ group: g.name }, g.vipPresent ? 1 : 0]),
    );
    // An info series per VIP (always 1): which addresses a group holds, for joins in queries.
    this.gauge('haagent_group_vip_info', 'A VIP of a group and the interface it is on (always 1).', ['group', 'vip', 'interface'], (s) =>
      s.groups.flatMap((g) => (g.vips ?? [{ vip: g.vip, interface: g.interface }]).map((v): Sample => [{ group: g.name, vip: v.vip, interface: v.interface }, 1])),
    );
    this.gauge('haagent_peer_up', 'Whether a peer is alive (heard within the dead time).', ['peer'], (s) => s.peers.map((p): Sample => [{ peer: p.node }, p.alive ? 1 : 0]));
    this.gauge('haagent_peer_last_seen_seconds', 'Seconds since the last valid heartbeat from a peer.', ['peer'], (s) =>
      s.peers.map((p): Sample => [{ peer: p.node }, p.lastHeardMsAgo / 1000]),
    );
    // Paths are the addresses a configured peer was heard from: as bounded as the peers.
    const paths = (s: StatusRecord, value: (x: PeerStatus['paths'][number]) => number) =>
      s.peers.flatMap((p) => p.paths.map((x): Sample => [{ peer: p.node, path: x.address }, value(x)]));
    this.gauge('haagent_peer_path_up', 'Whether a path (address) of a peer is heard within the dead time.', ['peer', 'path'], (s) => paths(s, (x) => (x.alive ? 1 : 0)));
    this.gauge('haagent_peer_path_last_seen_seconds', 'Seconds since the last valid heartbeat from a peer on one path (address).', ['peer', 'path'], (s) => paths(s, (x) => x.lastHeardMsAgo / 1000));
    this.gauge('haagent_levip_members', 'Members of a LevIP group\'s rotation, as this node sees them.', ['group'], (s) =>
      (s.levip ?? []).map((g): Sample => [{ group: g.group }, g.members.length]),
    );
    // 1 announced, 0 not, -1 unknown (no daemon configured, not read yet, or unreadable).
    this.gauge('haagent_bgp_announced', 'Whether the routing daemon announces a bgp group\'s VIP, as read back from it: 1 yes, 0 no, -1 unknown.', ['group', 'vip'], (s) =>
      (s.bgp ?? []).flatMap((g) => g.vips.map((v): Sample => [{ group: g.group, vip: v.vip }, v.announced === 'yes' ? 1 : v.announced === 'no' ? 0 : -1])),
    );
    this.gauge('haagent_maintenance', 'Whether this node is in maintenance (out of every election).', [], (s) => [[{}, s.maintenance ? 1 : 0]]);
  }

  private mirrorCounters(): void {
    this.counter('haagent_heartbeats_sent_total', 'Heartbeat and resign datagrams sent (one per send, whatever the number of peers).', [], (s) => [[{}, s.heartbeats.sent]]);
    this.counter('haagent_heartbeats_received_total', 'Authenticated, replay-checked heartbeats received from a peer.', ['peer'], (s) =>
      s.peers.map((p): Sample => [{ peer: p.node }, p.received]),
    );
    this.counter('haagent_probes_sent_total', 'Probe datagrams sent (counted in haagent_heartbeats_sent_total too): to a peer whose heartbeat is overdue, or to confirm an ICMP error.', [], (s) => [[{}, s.heartbeats.probesSent ?? 0]]);
    this.counter('haagent_peer_probe_rounds_total', 'Probe rounds for a peer, by outcome: answered (heard again), unanswered (declared dead).', ['peer', 'outcome'], (s) =>
      s.peers.flatMap((p): Sample[] => [[{ peer: p.node, outcome: 'answered' }, p.probes?.answered ?? 0], [{ peer: p.node, outcome: 'unanswered' }, p.probes?.unanswered ?? 0]]),
    );
    this.counter('haagent_heartbeat_send_errors_total', 'Heartbeat datagrams the kernel refused to send (per peer address).', [], (s) => [[{}, s.heartbeats.sendErrors]]);
    this.counter('haagent_packets_dropped_total', 'Datagrams dropped before the election, by reason (see docs/protocol.md).', ['reason'], (s) =>
      DROP_REASONS.map((reason): Sample => [{ reason }, s.dropped[reason] ?? 0]),
    );
    this.counter('haagent_heartbeats_authenticated_total', 'Peer datagrams whose MAC a heartbeat key verified, by key id and use (accept: a rotation\'s second key; it can go once this stops growing).', ['key', 'use'], (s) =>
      (s.keys ?? []).map((k): Sample => [{ key: k.id, use: k.use }, k.authenticated]),
    );
    this.counter('haagent_levip_slots_owned_total', 'LevIP rotation slots in which this node owned the shared IP and announced it.', ['group'], (s) =>
      (s.levip ?? []).map((g): Sample => [{ group: g.group }, g.slotsOwned]),
    );
    this.counter('haagent_levip_announcements_total', 'Unsolicited ARP replies this node started for a LevIP group in its slots.', ['group'], (s) =>
      (s.levip ?? []).map((g): Sample => [{ group: g.group }, g.announcements]),
    );
    this.counter('haagent_vip_conflicts_total', 'Conflict probes (arping -D) answered by another host while this node held the group\'s VIP.', ['group'], (s) =>
      s.groups.map((g): Sample => [{ group: g.name }, g.conflicts]),
    );
    this.counter('haagent_vip_confirm_probes_total', 'Announcement check probes (an ARP request from the VIP to the confirm gateway) this node asked for.', ['group'], (s) =>
      s.groups.flatMap((g): Sample[] => (g.confirm ? [[{ group: g.name }, g.confirm.probes]] : [])),
    );
    this.counter('haagent_garp_sent_total', 'Gratuitous ARP frames sent for a group\'s VIP (takeover bursts and refreshes).', ['group'], (s) =>
      s.groups.map((g): Sample => [{ group: g.name }, g.announcements]),
    );
  }
}

/**
 * The label sets an event-counted metric has series for, by metric and group, so that the
 * series of a group gone from the status record can be removed (prom-client removes a series
 * by its full label set only).
 */
class GroupSeries {
  private readonly sets = new Map<string, Map<string, Labels & { group: string }>>();

  add(metric: string, labels: Labels & { group: string }): void {
    let m = this.sets.get(metric);
    if (m === undefined) this.sets.set(metric, (m = new Map()));
    m.set(JSON.stringify(labels), labels);
  }

  /** Forgets, and returns, the metric's label sets of every group not in `live`. */
  takeGone(metric: string, live: ReadonlySet<string>): Labels[] {
    const m = this.sets.get(metric);
    if (m === undefined) return [];
    const gone = [...m].filter(([, labels]) => !live.has(labels.group));
    for (const [key] of gone) m.delete(key);
    return gone.map(([, labels]) => labels);
  }
}
