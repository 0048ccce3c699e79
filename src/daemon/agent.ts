/**
 * The agent process: wires config, key, real adapters, the driver and the control socket
 * together, and owns the process lifecycle (signals, graceful stop, last-resort release).
 * Nothing on the host changes before the config and the key have been accepted.
 */
import fs from 'node:fs';
import type { Config } from '../config/types.js';
import type { HeartbeatKeys } from '../wire/keyring.js';
import type { Logger } from '../log.js';
import type { RoutingAnnouncer } from '../adapters/ndisc.js';
import { makeAnnouncers } from './announcers.js';
import { ChildTracker } from '../adapters/child-tracker.js';
import { monotonicClock } from '../adapters/clock.js';
import { IpVipHost } from '../adapters/ip-host.js';
import { IpBatch } from '../adapters/ip-batch.js';
import { agentVipHost } from '../adapters/netlink-host.js';
import { OperatorRunner } from '../adapters/operator-runner.js';
import { SpawnRunner } from '../adapters/runner.js';
import { UdpTransport } from '../adapters/udp-transport.js';
import { applyKeys, checkReload, keyIds } from './reload.js';
import type { Notifier } from './notify.js';
import type { Metrics } from '../metrics/metrics.js';
import type { MetricsServer } from '../metrics/server.js';
import { auditLog, ControlServer, type ControlRequest, type ControlResponse } from './control.js';
import { hookNotifier, missingTools, nextBoot, reportReady, scheduleThread, startMetrics, StartError } from './agent-adapters.js';
import { handleControl, maintenanceFile } from './agent-control.js';
import type { Driver } from './driver.js';
import { LevipService } from '../levip/service.js';
import { groupVipsText, vipPlacements } from '../config/vip-device.js';
import { ensureVips } from '../ports/vip-set.js';
import { BgpDeviceHost, IpLinkOps } from '../adapters/bgp-device.js';
import { bgpDevices } from '../config/bgp.js';
import { BgpReadbackService } from '../bgp/service.js';
import { serviceStatusLine, statusView } from './status-view.js';
import type { ServiceManager } from '../adapters/service-manager.js';
import { realTimers, type VipHost } from '../ports/index.js';
import { AgentHealth } from './agent-health.js';
import { EventFeed } from './event-feed.js';
import { makeDriver, stepObserver } from './agent-driver.js';
import { loadNative } from '../adapters/native.js';

export interface AgentOptions {
  /** the file the config came from, re-read on reload. */
  configPath: string;
  config: Config;
  /** the heartbeat keys loaded at start; a reload loads them again (src/daemon/reload.ts). */
  keys: HeartbeatKeys;
  log: Logger;
  /** systemd notifications (Type=notify); absent or disabled outside systemd. */
  service?: ServiceManager;
}

/** Extra time past the dead time that a graceful stop may take before we force the release. */
const STOP_MARGIN_MS = 2000;

export class Agent {
  private driver: Driver | null = null;
  private transport: UdpTransport | null = null;
  private control: ControlServer | null = null;
  private readonly tracker = new ChildTracker();
  /** notify hooks of every Notifier (a reload makes a new one): killed as groups at stop. */
  private readonly hooks = new OperatorRunner();
  private readonly vipHost: VipHost;
  private readonly ipBatch: IpBatch;
  /** closed at the end: it holds the raw ICMPv6 socket, which would keep the process alive. */
  private announcer: RoutingAnnouncer | null = null;
  private stopping = false;
  private config: Config;
  /** `haagent events` (event-feed.ts). */
  private readonly feed = new EventFeed(() => this.config.node, () => this.driver?.view() ?? null);
  private notifier: Notifier | null = null;
  private levip: LevipService | null = null;
  private bgp: BgpReadbackService | null = null;
  private metrics: Metrics | null = null;
  private metricsServer: MetricsServer | null = null;
  private health: AgentHealth | null = null;
  private exitResolve: (code: number) => void = () => undefined;
  /** resolves with the process exit code once the agent has stopped. */
  readonly done: Promise<number>;

  constructor(private readonly opts: AgentOptions) {
    // VIPs change through rtnetlink in process; the fallback's `ip -batch` spares a fork too.
    this.ipBatch = new IpBatch({
      onDeath: (why) => opts.log.warn({ why }, 'ip -batch helper ended: one ip spawn per VIP change until it is restarted'),
      // A VIP add that falls back goes through this helper: it must not wait behind the load either.
      onSpawn: (pid) => this.schedule(pid, 'ip -batch helper'),
    });
    const vips = agentVipHost(loadNative(), new IpVipHost(new SpawnRunner(), { batch: this.ipBatch }), opts.log);
    this.vipHost = new BgpDeviceHost(vips, () => bgpDevices(this.config.groups), new IpLinkOps(new SpawnRunner()));
    this.config = opts.config;
    this.done = new Promise((resolve) => (this.exitResolve = resolve));
  }

  /** Whether start() got as far as the election (and so may have changed the host). */
  touchedHost = false;

  /**
   * Starts the agent. Order matters for a refused start: first what can refuse without
   * changing anything (missing tools, a control socket another agent owns), then the
   * sockets, then the host. A throw before `touchedHost` leaves the host as it was.
   */
  async start(): Promise<void> {
    const { config, log } = this.opts;
    const hb = config.heartbeat;
    const missing = missingTools(config);
    if (missing.length > 0) throw new StartError(`${missing.join(', ')} not found in PATH (${process.env.PATH ?? ''}): install iproute2 and iputils-arping`);
    const { socket, mode, statusSocket, statusMode } = config.control;
    const statusSock = statusSocket === null ? null : { path: statusSocket, mode: statusMode };
    this.control = await ControlServer.listen(socket, mode, (req) => this.handle(req), this.feed.source, { statusSocket: statusSock, audit: auditLog(log) });
    const boot = nextBoot(config, log);
    const native = loadNative();
    // The AF_PACKET sockets are opened before the heartbeat sockets, so they get the lower fd
    // numbers. A killed process's files are released last fd first, and releasing a packet
    // socket waits out an RCU grace period (synchronize_net): opened after the heartbeat
    // sockets, one delayed their close, and with it the port unreachable that tells the peer
    // we are gone, by 8-17 ms (2-3 ms when opened before; measured on this 2-core VM). A
    // reload that adds an interface opens its socket later, above them: until the next
    // restart a crash of this node is seen that much later.
    const announcer = makeAnnouncers(config.groups, this.tracker, log);
    this.announcer = announcer;
    this.transport = await UdpTransport.open({ bind: hb.bind, port: hb.port, peers: hb.peers, multicast: hb.multicast, errorQueue: native.ok ? native.native : null });
    this.transport.onSendError((target, code) => {
      if (this.driver) this.driver.stats.sendErrors++;
      log.debug({ target, code }, 'heartbeat send failed');
    });
    const maintenance = fs.existsSync(this.maintenanceFile);
    if (maintenance) log.warn({ file: this.maintenanceFile }, 'starting in maintenance: this node stays out of every election');
    this.levip = new LevipService({ stateDir: config.stateDir, log }); // touches nothing until prepare()
    this.driver = makeDriver({
      maintenance, config, keys: this.opts.keys, log, bootId: boot.bootId, transport: this.transport, vipHost: this.vipHost, announcer, arpAnswering: this.levip,
      onExit: () => void this.finish(0),
      onStep: stepObserver({
        config: () => this.config,
        metrics: () => this.metrics,
        notifier: () => this.notifier,
        vipOf: (g) => this.vipOf(g),
        emit: (ev) => this.feed.emit(ev),
        statusChanged: () => this.opts.service?.status(this.serviceStatus()),
        observed: () => this.feed.observe(),
      }),
    });
    this.notifier = this.makeNotifier(this.config);
    const metrics = await startMetrics(config, () => this.statusRecord(), log);
    this.metrics = metrics?.metrics ?? null;
    this.metricsServer = metrics?.server ?? null;
    this.schedule(0, 'event loop');
    this.touchedHost = true;
    // LevIP: ARP suppressed on the interfaces before a shared IP can go on lo (docs/levip.md).
    await this.levip.prepare(config.groups);
    this.driver.start();
    this.health = new AgentHealth(config, { log, feed: (input) => this.driver?.feed(input), metrics: () => this.metrics, event: (ev) => this.feed.emit(ev) });
    this.health.start();
    this.bgp = new BgpReadbackService({ runner: new SpawnRunner(), timers: realTimers, clock: monotonicClock, log });
    this.bgp.configure(config.groups); // readback for status only, off the election's path
    // While finish() winds down (bounded) the loop has stopped on purpose: not a stall.
    reportReady(this.opts.service, this.serviceStatus(), hb.interval, (withinMs) => this.finished || (this.driver?.turning(withinMs) ?? false), log);
    log.info({ bootId: boot.bootId.toString(), groups: config.groups.map((g) => g.name), peers: hb.peers.map((p) => p.address), ...keyIds(this.opts.keys) }, 'agent started');
  }

  private serviceStatus(): string {
    const d = this.driver;
    if (!d) return 'starting';
    return serviceStatusLine(d.view().groups.map((g) => ({ name: g.name, state: g.state, vip: this.vipOf(g.name), activeNode: g.holder })), this.config.node);
  }

  /** The group's VIPs as hooks, events and the service line show them: comma-separated, first first. */
  private vipOf(group: string): string {
    const g = this.config.groups.find((x) => x.name === group);
    return g ? groupVipsText(g) : '';
  }

  /**
   * Reload: validate the file; if invalid keep running the old config and report why. If
   * valid, apply the differences (groups diffed by name in the core, no flap for unchanged
   * groups). Keys that only a restart can change are refused rather than half-applied.
   */
  reload(): ControlResponse {
    const service = this.opts.service;
    service?.reloading();
    const res = this.applyReload();
    this.metrics?.observeReload(res.ok);
    // Accepted or refused, the agent serves again (systemd leaves "reloading").
    service?.ready(this.serviceStatus());
    return res;
  }

  private applyReload(): ControlResponse {
    const { log } = this.opts;
    const r = checkReload(this.opts.configPath, this.config, log);
    if (!r.ok) return r.response;
    // Everything is loaded and checked: from here on the reload only applies.
    const keys = this.driver === null ? '' : applyKeys(this.driver, r.keys, log);
    const rescheduled = r.config.realtime !== this.config.realtime;
    this.config = r.config;
    if (rescheduled) {
      this.schedule(0, 'event loop');
      if (this.ipBatch.pid !== undefined) this.schedule(this.ipBatch.pid, 'ip -batch helper');
    }
    this.notifier?.close();
    this.notifier = this.makeNotifier(r.config);
    this.driver?.reconfigure(r.config);
    this.health?.reload(r.config);
    this.bgp?.configure(r.config.groups);
    log.info({ groups: r.config.groups.map((g) => g.name) }, 'config reloaded');
    this.feed.emit({ event: 'reload', groups: r.config.groups.map((g) => g.name) });
    return { ok: true, message: `reloaded ${this.opts.configPath}: groups ${r.config.groups.map((g) => g.name).join(', ')}${keys}` };
  }

  /** Gives thread `tid` (0: the event loop) the configured scheduling; logs what it got. */
  private schedule(tid: number, what: string): void {
    scheduleThread(this.config.realtime, tid, what, this.opts.log);
  }

  private makeNotifier(config: Config): Notifier | null {
    return hookNotifier(config, this.hooks, this.opts.log);
  }

  private statusRecord() {
    const d = this.driver!;
    return { ...statusView(d.view(), d.stats, d.drops.snapshot(), { cluster: this.config.cluster, pid: process.pid, now: d.now(), checks: (g) => this.health?.checkStatus(g) ?? [], keys: d.keyViews() }), levip: this.levip?.status(d.view()), bgp: this.bgp?.status(d.view()) ?? [] };
  }

  private handle(req: ControlRequest): ControlResponse {
    return handleControl(req, { driver: () => this.driver, status: () => this.statusRecord(), reload: () => this.reload(), stateDir: () => this.config.stateDir });
  }

  get maintenanceFile(): string {
    return maintenanceFile(this.config.stateDir);
  }

  /** After a refused start: close whatever start() opened, so the process can exit. */
  async abort(): Promise<void> {
    this.driver?.stop();
    this.tracker.killAll();
    this.hooks.killAll();
    this.ipBatch.close();
    this.announcer?.close();
    await this.metricsServer?.close();
    await this.control?.close();
    await this.transport?.close();
  }

  /** Graceful stop: resign, hand over, release, exit 0. A second call forces it. */
  stop(signal: string): void {
    const { log } = this.opts;
    if (this.stopping) {
      log.warn({ signal }, 'second stop signal: releasing now');
      void this.forceRelease().then(() => this.finish(0));
      return;
    }
    this.stopping = true;
    this.opts.service?.stopping();
    log.info({ signal }, 'stopping: resigning and handing over');
    const bound = this.config.heartbeat.deadTime + STOP_MARGIN_MS;
    setTimeout(() => {
      log.error({ boundMs: bound }, 'graceful stop took too long: releasing now');
      void this.forceRelease().then(() => this.finish(1));
    }, bound).unref();
    if (this.driver) this.driver.shutdown();
    else void this.finish(0);
  }

  /** Last resort: remove every VIP directly, without the election. */
  async forceRelease(): Promise<void> {
    const groups = [...this.config.groups, ...this.opts.config.groups.filter((g) => !this.config.groups.includes(g))];
    for (const g of groups) {
      const outs = await ensureVips(this.vipHost, vipPlacements(g), false);
      for (const o of outs) if (!o.ok) this.opts.log.error({ group: g.name, error: o.error }, 'cannot remove VIP');
    }
  }

  private finished = false;
  private async finish(code: number): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.driver?.stop();
    await this.levip?.close(); // the shared IPs left lo: give the ARP sysctls back
    this.health?.stop();
    this.bgp?.close();
    this.tracker.killAll();
    this.ipBatch.close();
    this.announcer?.close();
    if (this.notifier) {
      // Let the last transitions' hooks run, bounded: a stop must not hang on a hook.
      const bound = Math.min(this.config.notifyTimeout, 2000);
      await Promise.race([this.notifier.idle(), new Promise((r) => setTimeout(r, bound).unref())]);
      this.notifier.close();
    }
    this.hooks.killAll(); // what is still running after that bound, with all it started
    await this.metricsServer?.close();
    await this.control?.close();
    await this.transport?.close();
    this.opts.service?.close();
    this.opts.log.info({ code }, 'agent stopped');
    this.exitResolve(code);
  }
}
