/**
 * The agent process: wires config, key, real adapters, the driver and the control socket
 * together, and owns the process lifecycle (signals, graceful stop, last-resort release).
 * Nothing on the host changes before the config and the key have been accepted.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { ArpingAnnouncer } from '../adapters/arping.js';
import { ChildTracker } from '../adapters/child-tracker.js';
import { monotonicClock } from '../adapters/clock.js';
import { IpVipHost } from '../adapters/ip-host.js';
import { SpawnRunner } from '../adapters/runner.js';
import { UdpTransport } from '../adapters/udp-transport.js';
import { loadAndBumpBootId } from '../wire/boot-id.js';
import { ControlServer, type ControlRequest, type ControlResponse } from './control.js';
import { Driver } from './driver.js';
import { statusView } from './status-view.js';
import type { VipHost } from '../ports/index.js';

export interface AgentOptions {
  config: Config;
  key: Buffer;
  log: Logger;
}

/** Extra time past the dead time that a graceful stop may take before we force the release. */
const STOP_MARGIN_MS = 2000;

export class Agent {
  private driver: Driver | null = null;
  private transport: UdpTransport | null = null;
  private control: ControlServer | null = null;
  private readonly tracker = new ChildTracker();
  private readonly vipHost: VipHost;
  private stopping = false;
  private exitResolve: (code: number) => void = () => undefined;
  /** resolves with the process exit code once the agent has stopped. */
  readonly done: Promise<number>;

  constructor(private readonly opts: AgentOptions) {
    this.vipHost = new IpVipHost(new SpawnRunner());
    this.done = new Promise((resolve) => (this.exitResolve = resolve));
  }

  async start(): Promise<void> {
    const { config, log } = this.opts;
    const hb = config.heartbeat;
    try {
      fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    } catch (e) {
      log.warn({ stateDir: config.stateDir, err: (e as Error).message }, 'cannot create the state directory');
    }
    const boot = loadAndBumpBootId(path.join(config.stateDir, 'boot-id'), Date.now());
    if (boot.warning) log.warn(boot.warning);
    this.transport = await UdpTransport.open({ bind: hb.bind, port: hb.port, peers: hb.peers, multicast: hb.multicast });
    this.transport.onSendError((target, code) => {
      if (this.driver) this.driver.stats.sendErrors++;
      log.debug({ target, code }, 'heartbeat send failed');
    });
    const announcer = new ArpingAnnouncer(this.tracker, {
      onFailure: (exit) => log.error({ argv: exit.argv, code: exit.code, signal: exit.signal, stderr: exit.stderr }, 'arping failed'),
    });
    this.driver = new Driver({
      config,
      key: this.opts.key,
      bootId: boot.bootId,
      clock: monotonicClock,
      log,
      transport: this.transport,
      vipHost: this.vipHost,
      announcer,
      onExit: () => void this.finish(0),
    });
    this.control = await ControlServer.listen(config.control.socket, config.control.mode, (req) => this.handle(req));
    this.driver.start();
    log.info({ bootId: boot.bootId.toString(), groups: config.groups.map((g) => g.name), peers: hb.peers.map((p) => p.address) }, 'agent started');
  }

  private handle(req: ControlRequest): ControlResponse {
    const d = this.driver;
    if (!d) return { ok: false, message: 'agent is starting' };
    switch (req.cmd) {
      case 'status':
        return { ok: true, status: statusView(d.core, d.stats, d.drops.snapshot(), { cluster: this.opts.config.cluster, pid: process.pid, now: d.now() }) };
      case 'takeover':
      case 'standby':
        return d.command(req.group === undefined ? { op: req.cmd } : { op: req.cmd, group: req.group });
      case 'maintenance':
        return d.command({ op: 'maintenance', on: req.on });
    }
  }

  /** Graceful stop: resign, hand over, release, exit 0. A second call forces it. */
  stop(signal: string): void {
    const { log, config } = this.opts;
    if (this.stopping) {
      log.warn({ signal }, 'second stop signal: releasing now');
      void this.forceRelease().then(() => this.finish(0));
      return;
    }
    this.stopping = true;
    log.info({ signal }, 'stopping: resigning and handing over');
    const bound = config.heartbeat.deadTime + STOP_MARGIN_MS;
    setTimeout(() => {
      log.error({ boundMs: bound }, 'graceful stop took too long: releasing now');
      void this.forceRelease().then(() => this.finish(1));
    }, bound).unref();
    if (this.driver) this.driver.shutdown();
    else void this.finish(0);
  }

  /** Last resort: remove every VIP directly, without the election. */
  async forceRelease(): Promise<void> {
    for (const g of this.opts.config.groups) {
      const r = await this.vipHost.ensureAbsent(g.vip, g.interface);
      if (!r.ok) this.opts.log.error({ group: g.name, error: r.error }, 'cannot remove VIP');
    }
  }

  private finished = false;
  private async finish(code: number): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.driver?.stop();
    this.tracker.killAll();
    await this.control?.close();
    await this.transport?.close();
    this.opts.log.info({ code }, 'agent stopped');
    this.exitResolve(code);
  }
}
