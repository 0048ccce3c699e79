/**
 * The simulated heartbeat network: every host on one segment, each datagram `latencyMs` on
 * the wire, lost with `lossPct` percent (drawn per receiver from the seeded random source),
 * dropped on a cut pair or when either end's link is down. A datagram that reaches a host with
 * no agent listening (killed, exited) comes back as ICMP port unreachable, quoting it, as the
 * Linux host would; a host that is gone (hostUp false) or cut off answers nothing.
 */
import type { Datagram, HeartbeatTransport } from '../../src/ports/index.js';
import type { EventQueue, Rng } from './sim-clock.js';

export const HEARTBEAT_PORT = 694;

/** What the network needs of a simulated host. */
export interface NetHost {
  name: string;
  address: string;
  /** the host exists (a killed agent on a live host still answers ICMP). */
  hostUp: boolean;
  /** the heartbeat interface is up. */
  linkUp: boolean;
  /** the socket of the agent running there, or null. */
  socket: SimSocket | null;
}

export interface NetOptions {
  latencyMs: number;
  lossPct: number;
}

export class SimNet {
  /** cut pairs, "a|b" both ways. */
  readonly cut = new Set<string>();
  private readonly hosts: NetHost[] = [];

  constructor(
    private readonly q: EventQueue,
    private readonly rng: Rng,
    private readonly o: NetOptions,
  ) {}

  attach(h: NetHost): void {
    this.hosts.push(h);
  }

  /** Whether a datagram from a can reach b right now. */
  path(a: NetHost, b: NetHost): boolean {
    return a.hostUp && b.hostUp && a.linkUp && b.linkUp && !this.cut.has(`${a.name}|${b.name}`);
  }

  /** One datagram to every other host, but those whose address is in skip. */
  send(from: NetHost, sock: SimSocket, data: Buffer, skip?: readonly string[]): void {
    for (const to of this.hosts) {
      if (to === from || skip?.includes(to.address)) continue;
      if (!this.path(from, to) || this.rng.next() * 100 < this.o.lossPct) continue;
      this.q.at(this.o.latencyMs, () => this.arrive(from, sock, to, data));
    }
  }

  private arrive(from: NetHost, sock: SimSocket, to: NetHost, data: Buffer): void {
    if (!this.path(from, to)) return;
    if (to.socket !== null) return to.socket.deliver({ data, address: from.address, port: HEARTBEAT_PORT });
    // Nobody listens: the host's ICMP port unreachable, back to the socket that sent it.
    this.q.at(this.o.latencyMs, () => {
      if (this.path(to, from) && from.socket === sock) sock.refuse(to.address, [data]);
    });
  }
}

/** One agent process's heartbeat socket: the HeartbeatTransport port on the simulated network. */
export class SimSocket implements HeartbeatTransport {
  private onMsg: (d: Datagram) => void = () => undefined;
  private onRefused: (address: string, quoted: Buffer[]) => void = () => undefined;

  constructor(
    private readonly net: SimNet,
    private readonly host: NetHost,
  ) {}

  broadcast(data: Buffer, skip?: readonly string[]): void {
    this.net.send(this.host, this, data, skip);
  }

  onMessage(handler: (d: Datagram) => void): void {
    this.onMsg = handler;
  }

  onUnreachable(handler: (address: string, quoted: Buffer[]) => void): void {
    this.onRefused = handler;
  }

  async close(): Promise<void> {
    if (this.host.socket === this) this.host.socket = null;
  }

  deliver(d: Datagram): void {
    this.onMsg(d);
  }

  refuse(address: string, quoted: Buffer[]): void {
    this.onRefused(address, quoted);
  }
}
