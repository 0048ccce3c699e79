/**
 * HeartbeatTransport over node:dgram. Receives on the socket bound to (bind, port), on each
 * unicast peer's socket, on a socket bound to (address, port) for each local address a path
 * names of its own (PeerEndpoint.bind: a second link) and, with a bind address, on a socket
 * bound to the multicast group.
 * Sends to each unicast peer through its socket, connected to that peer (see udp-peer.ts:
 * that is what makes ICMP port unreachable visible), and to the multicast group through the
 * bound socket, with TTL 1 (heartbeats never leave the segment) and loopback off (our own
 * datagrams would only be dropped as own-node). The group's interface is the one holding the
 * bind address, for IPv4 and IPv6 alike. Send errors (EHOSTUNREACH, ENETUNREACH with
 * the link down) never throw: they are reported to onSendError (the agent counts them in
 * DriverStats). Nothing here knows peers by name; the codec above authenticates every
 * datagram.
 */
import { DEFAULTS } from '../config/defaults.js';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Millis, PeerEndpoint } from '../config/types.js';
import type { Clock, Datagram, HeartbeatTransport } from '../ports/index.js';
import { monotonicClock } from './clock.js';
import type { Native } from './native.js';
import { PeerLink, type ErrorQueue, type PeerEvents } from './udp-peer.js';
import { bindSocket, closeSocket, errorCode, interfaceHolding, socketTypeFor } from './udp-socket.js';

export interface UdpTransportOptions {
  /** local address for every socket (source of our heartbeats) but a path's own; null = any. */
  bind: string | null;
  port: number;
  peers: PeerEndpoint[];
  multicast: string | null;
  /**
   * As node:dgram takes it: the local IPv4 address of the interface (defaults to bind), or
   * for IPv6 `::%ifname`. Used to join the group and to send to it.
   */
  multicastInterface?: string;
  reconnectMs?: Millis;
  clock?: Clock;
  /**
   * The addon's socket calls: each peer's socket is then made with the kernel's error queue
   * on, so a port unreachable comes with the datagram it quoted (src/native/udp.c).
   */
  errorQueue?: Pick<Native, 'udpSocket' | 'udpErrors'> | null;
}

type SendErrorHandler = (target: string, code: string) => void;

export class UdpTransport implements HeartbeatTransport {
  private messageHandler: (d: Datagram) => void = () => undefined;
  private unreachableHandler: (address: string, quoted: Buffer[]) => void = () => undefined;
  private sendErrorHandler: SendErrorHandler = () => undefined;
  private readonly links: PeerLink[] = [];
  private readonly receivers: Socket[] = [];
  /** a socket bound to each path's own local address (other than bind), by address. */
  private readonly locals = new Map<string, Socket>();
  private readonly afterMulticastSend: (err: Error | null) => void;
  private closed = false;

  private constructor(
    private readonly main: Socket,
    private readonly opts: UdpTransportOptions,
    private readonly clock: Clock,
  ) {
    this.afterMulticastSend = (err) => {
      if (err) this.sendError(opts.multicast ?? '', errorCode(err));
    };
    main.on('error', (err) => this.sendError('socket', errorCode(err)));
  }

  /** Binds every socket and connects every peer; rejects (closing what it opened) if a bind fails. */
  static async open(opts: UdpTransportOptions): Promise<UdpTransport> {
    const type = socketTypeFor([opts.bind, opts.multicast, ...opts.peers.flatMap((p) => [p.address, p.bind ?? null])]);
    // reuseAddr: the per-peer sockets share the heartbeat port (see addPeer).
    const main = createSocket({ type, reuseAddr: true });
    const t = new UdpTransport(main, opts, opts.clock ?? monotonicClock);
    try {
      await bindSocket(main, opts.port, opts.bind ?? undefined);
      t.listen(main);
      if (opts.multicast !== null) await t.joinGroup(type === 'udp6');
      for (const peer of opts.peers) if (peer.bind !== undefined) await t.addLocal(peer.bind, type);
      for (const peer of opts.peers) await t.addPeer(peer, type);
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }

  broadcast(data: Buffer, skip?: readonly string[]): void {
    if (this.closed) return;
    const now = this.clock.now();
    for (const link of this.links) if (skip === undefined || !skip.includes(link.peer.address)) link.send(data, now);
    if (this.opts.multicast !== null) {
      this.main.send(data, this.opts.port, this.opts.multicast, this.afterMulticastSend);
    }
  }

  onMessage(handler: (d: Datagram) => void): void {
    this.messageHandler = handler;
  }

  onUnreachable(handler: (address: string, quoted: Buffer[]) => void): void {
    this.unreachableHandler = handler;
  }

  /** target is the peer address, the multicast group, or "socket" for an error of the bound socket. */
  onSendError(handler: SendErrorHandler): void {
    this.sendErrorHandler = handler;
  }

  /**
   * Peers whose send socket is connected (the others go through the fallback path): for
   * diagnostics, and what test/fixtures/adapters/udp-node.mjs reports to the netns tests.
   */
  connectedPeers(): string[] {
    return this.links.filter((l) => l.isConnected()).map((l) => l.peer.address);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [this.main, ...this.receivers.filter((s) => s !== this.main), ...this.links.map((l) => l.sock)];
    await Promise.all(all.map((s) => closeSocket(s)));
  }

  private listen(sock: Socket): void {
    this.receivers.push(sock);
    sock.on('message', (data: Buffer, rinfo: RemoteInfo) => {
      this.messageHandler({ data, address: rinfo.address, port: rinfo.port });
    });
  }

  /**
   * A socket bound to a unicast address does not see datagrams sent to the group, so with a
   * bind address a second socket bound to (group, port) receives them; bound to "any", the
   * main socket joins the group itself (a second one would get every datagram twice). IPv6
   * names the interface as a scope (`::%eth0`, `ff02::6:94%eth0`); without a bind address, or
   * one no single interface holds, the kernel's route for the group chooses it.
   */
  private async joinGroup(v6: boolean): Promise<void> {
    const group = this.opts.multicast as string;
    const v6If = v6 && this.opts.bind !== null ? interfaceHolding(this.opts.bind, networkInterfaces()) : null;
    const iface = this.opts.multicastInterface ?? (v6 ? (v6If === null ? undefined : `::%${v6If}`) : (this.opts.bind ?? undefined));
    let receiver = this.main;
    if (this.opts.bind !== null) {
      receiver = createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: true });
      receiver.on('error', (err) => this.sendError('socket', errorCode(err)));
      this.receivers.push(receiver);
      await bindSocket(receiver, this.opts.port, v6If === null ? group : `${group}%${v6If}`);
      this.listen(receiver);
    }
    receiver.addMembership(group, iface);
    this.main.setMulticastTTL(1);
    this.main.setMulticastLoopback(false);
    if (iface !== undefined) this.main.setMulticastInterface(iface);
  }

  /**
   * A path with a local address of its own (not bind) gets, besides its connected socket, one
   * bound to (address, port) and not connected, shared by every path from that address: it
   * sends while the path's socket cannot connect (no route yet), so those heartbeats too leave
   * from the path's address, and it receives what is sent to that address by a peer whose
   * socket is not the connected one (a peer sending through its own fallback).
   */
  private async addLocal(address: string, type: 'udp4' | 'udp6'): Promise<void> {
    if (address === this.opts.bind || this.locals.has(address)) return;
    const sock = createSocket({ type, reuseAddr: true });
    sock.on('error', (err) => this.sendError('socket', errorCode(err)));
    this.locals.set(address, sock);
    this.receivers.push(sock);
    await bindSocket(sock, this.opts.port, address);
    this.listen(sock);
  }

  /**
   * Each unicast peer gets a socket bound to the heartbeat port and connected to the peer's:
   * the kernel delivers the peer's datagrams (from its heartbeat port) to this socket, which
   * has its own receive buffer, so a flood at the port fills the wildcard socket's buffer
   * and never the peers' (docs/reliability.md, F4). Connected, it also reports ICMP port
   * unreachable. Peers still identify each other by the authenticated node name only. The
   * socket is bound to the path's own local address when it names one, else to bind.
   */
  private async addPeer(peer: PeerEndpoint, type: 'udp4' | 'udp6'): Promise<void> {
    const sock = createSocket({ type, reuseAddr: true });
    const events: PeerEvents = {
      unreachable: (address, quoted) => this.unreachableHandler(address, quoted),
      sendError: (address, code) => this.sendError(address, code),
    };
    const local = peer.bind ?? this.opts.bind;
    const errors = this.errorQueueSocket(type, local);
    const fallback = (peer.bind !== undefined ? this.locals.get(peer.bind) : undefined) ?? this.main;
    const link = new PeerLink(peer, sock, fallback, events, this.opts.reconnectMs ?? DEFAULTS.transport.reconnect, errors);
    this.links.push(link);
    await bindSocket(sock, this.opts.port, local ?? undefined, errors?.fd);
    this.listen(sock);
    await link.connect(this.clock.now());
  }

  /** A peer socket from the addon with its error queue on, bound to `local`, or null (node:dgram makes it). */
  private errorQueueSocket(type: 'udp4' | 'udp6', local: string | null): ErrorQueue | null {
    const q = this.opts.errorQueue;
    if (!q) return null;
    try {
      const fd = q.udpSocket(type === 'udp6' ? 6 : 4, local ?? (type === 'udp6' ? '::' : '0.0.0.0'), this.opts.port);
      return { fd, read: (f) => q.udpErrors(f) };
    } catch {
      return null; // node:dgram makes it then, and a port unreachable comes without its quote
    }
  }

  private sendError(target: string, code: string): void {
    this.sendErrorHandler(target, code);
  }
}
