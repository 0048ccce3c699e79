/**
 * One unicast peer's send path. Heartbeats to the peer leave through a UDP socket *connected*
 * to it: Linux reports an ICMP error only to a connected UDP socket (as sk_err, surfacing as
 * ECONNREFUSED on the next recvmsg or send), so a crashed agent on a live host - whose kernel
 * answers our heartbeat with "port unreachable" - is noticed within a round trip instead of
 * after the dead time. The socket is bound to the heartbeat port, so the peer's own
 * heartbeats (sent from its heartbeat port) arrive on it too, away from the shared port's
 * buffer; the transport listens on it. Peers identify each other by the authenticated node
 * name in the payload, never by address or port.
 */
import type { Socket } from 'node:dgram';
import type { Millis, PeerEndpoint } from '../config/types.js';
import { connectSocket, errorCode } from './udp-socket.js';

export interface PeerEvents {
  /** quoted: what the ICMP errors queued for this socket quoted (our datagrams, if real). */
  unreachable(address: string, quoted: Buffer[]): void;
  sendError(address: string, code: string): void;
}

/** The addon's error queue of a socket it made (src/native/udp.c). */
export interface ErrorQueue {
  fd: number;
  read(fd: number): { origin: number; type: number; code: number; quoted: Buffer }[];
}

export class PeerLink {
  private connected = false;
  private connecting = false;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  /** Bound once: broadcast() runs up to 100 times a second per peer, so no closure per send. */
  private readonly afterSend: (err: Error | null) => void;

  constructor(
    readonly peer: PeerEndpoint,
    readonly sock: Socket,
    private readonly fallback: Socket,
    private readonly events: PeerEvents,
    private readonly reconnectMs: Millis,
    private readonly errors: ErrorQueue | null = null,
  ) {
    sock.on('error', (err) => this.report(err));
    this.afterSend = (err) => {
      if (err) this.report(err);
    };
  }

  /**
   * connect() on UDP only fixes the destination, but it needs a route: with the link down at
   * start it fails (ENETUNREACH). The link then sends through the unconnected fallback socket
   * and retries the connect at most once per reconnectMs.
   */
  async connect(now: Millis): Promise<void> {
    if (this.connected || this.connecting) return;
    this.connecting = true;
    this.lastAttempt = now;
    const err = await connectSocket(this.sock, this.peer.port, this.peer.address);
    this.connecting = false;
    if (err === null) this.connected = true;
    else this.events.sendError(this.peer.address, errorCode(err));
  }

  send(data: Buffer, now: Millis): void {
    if (this.connected) {
      this.sock.send(data, this.afterSend);
      return;
    }
    this.fallback.send(data, this.peer.port, this.peer.address, this.afterSend);
    if (!this.connecting && now - this.lastAttempt >= this.reconnectMs) void this.connect(now);
  }

  isConnected(): boolean {
    return this.connected;
  }

  private report(err: Error): void {
    const code = errorCode(err);
    // Drained at every error: epoll signals EPOLLERR for as long as the queue is not empty.
    const quoted = this.drain();
    if (code === 'ECONNREFUSED') this.events.unreachable(this.peer.address, quoted);
    else this.events.sendError(this.peer.address, code);
  }

  /** The datagrams the queued port-unreachable errors quoted (ICMP 3/3, ICMPv6 1/4). */
  private drain(): Buffer[] {
    if (this.errors === null) return [];
    try {
      const out: Buffer[] = [];
      for (const e of this.errors.read(this.errors.fd)) {
        const portUnreachable = (e.origin === 2 && e.type === 3 && e.code === 3) || (e.origin === 3 && e.type === 1 && e.code === 4);
        if (portUnreachable && e.quoted.length > 0) out.push(e.quoted);
      }
      return out;
    } catch {
      return []; // the socket is closing: nothing to read
    }
  }
}
