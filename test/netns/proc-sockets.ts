/**
 * Which of a process's descriptors are sockets of a kind, from /proc: its fd table gives
 * fd -> socket inode, its network namespace's tables (net/packet, net/udp, net/udp6) give
 * the inodes of each kind.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The descriptors of `pid` that are sockets listed in /proc/PID/net/`table`, ascending. */
export function socketFds(pid: number, table: 'packet' | 'udp' | 'udp6'): number[] {
  const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
  // net/packet: the inode is the last column; net/udp(6): the tenth.
  const inodes = new Set(lines.map((l) => l.trim().split(/\s+/)).map((c) => (table === 'packet' ? c[c.length - 1] : c[9])));
  const fds: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode !== undefined && inodes.has(inode)) fds.push(Number(fd));
  }
  return fds.sort((a, b) => a - b);
}

/** The socket inodes among `pid`'s descriptors (default: this process). */
export function socketInodes(pid: number | 'self' = 'self'): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  return inodes;
}
