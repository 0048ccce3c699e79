/**
 * Who is at the other end of a control connection: the addon's peerCred (SO_PEERCRED) on
 * the socket's descriptor. Node exposes no descriptor for a net.Socket; its libuv handle
 * has one (`_handle.fd`) on Linux for Unix sockets. Anything missing (no addon, an older
 * build, no descriptor, a failing call) gives null: never an exception, never a wait.
 */
import type net from 'node:net';
import { loadNative, type PeerCred } from './native.js';

export function socketFd(socket: net.Socket): number | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : null;
}

export function peerCred(socket: net.Socket): PeerCred | null {
  const load = loadNative();
  const fd = socketFd(socket);
  if (!load.ok || fd === null || typeof load.native.peerCred !== 'function') return null;
  try {
    return load.native.peerCred(fd);
  } catch {
    return null;
  }
}
