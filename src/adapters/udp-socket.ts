/**
 * Promise wrappers around the callback-shaped parts of node:dgram, and the address-family
 * rule. Nothing here decides anything about peers.
 */
import { isIPv6, SocketAddress } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import type { Socket, SocketType } from 'node:dgram';

/** One family for the whole transport: mixing IPv4 and IPv6 would need two sockets per role. */
export function socketTypeFor(addresses: readonly (string | null)[]): SocketType {
  const present = addresses.filter((a): a is string => a !== null);
  const v6 = present.filter((a) => isIPv6(a)).length;
  if (v6 > 0 && v6 < present.length) {
    throw new Error(`heartbeat addresses mix IPv4 and IPv6: ${present.join(', ')}`);
  }
  return v6 > 0 ? 'udp6' : 'udp4';
}

/**
 * The name of the one interface that holds the IPv6 address `bind` (os.networkInterfaces()
 * gives `interfaces`); null when none or several do. An IPv6 multicast group is joined, sent
 * to and bound on that interface: the kernel binds a link-local group (ff02::) only with an
 * interface, and an IPv4 group uses its bind address's interface the same way.
 */
export function interfaceHolding(bind: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | null {
  const want = new SocketAddress({ address: bind, family: 'ipv6' }).address;
  const names = Object.entries(interfaces)
    .filter(([, infos]) => infos?.some((i) => i.family === 'IPv6' && new SocketAddress({ address: i.address, family: 'ipv6' }).address === want))
    .map(([name]) => name);
  return names.length === 1 ? names[0]! : null;
}

/** Binds to (address, port), or adopts an already bound socket `fd` (the addon's udpSocket). */
export function bindSocket(sock: Socket, port: number, address?: string, fd?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    sock.once('error', onError);
    sock.bind(fd === undefined ? { port, address } : { fd }, () => {
      sock.off('error', onError);
      resolve();
    });
  });
}

/** Resolves with the connect error instead of rejecting: "no route yet" is a normal state. */
export function connectSocket(sock: Socket, port: number, address: string): Promise<Error | null> {
  return new Promise((resolve) => {
    try {
      sock.connect(port, address, (err?: Error) => resolve(err ?? null));
    } catch (err) {
      // Thrown synchronously when already connected or closed.
      resolve(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

export function closeSocket(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** errno name of a socket error ("ECONNREFUSED"), or the message when there is none. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}
