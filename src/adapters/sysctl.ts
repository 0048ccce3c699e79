/**
 * Per-interface IPv4 sysctls (`/proc/sys/net/ipv4/conf/<if>/<key>`) read and written as files.
 * No `sysctl` binary and no shell: the path is built from a validated interface name and key,
 * so an operator-supplied `--interface ../../kernel` can never reach another file. The file
 * access goes through an injected SysctlFs, so unit tests use an in-memory map.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ipv4ConfName } from '../config/sysctl-name.js';

export const IPV4_CONF_ROOT = '/proc/sys/net/ipv4/conf';

/** The two file operations needed; the real one is node:fs, tests pass a Map-backed fake. */
export interface SysctlFs {
  readFile(path: string): Promise<string>;
  writeFile(path: string, data: string): Promise<void>;
}

export const nodeSysctlFs: SysctlFs = {
  readFile: (path) => readFile(path, 'utf8'),
  // 'r+' opens without O_CREAT: a wrong path fails with ENOENT instead of creating a file
  // that the kernel never reads.
  writeFile: (path, data) => writeFile(path, data, { flag: 'r+' }),
};

/** A name the adapter refuses to turn into a path (bad interface name or key). */
export class InvalidSysctlName extends Error {
  override name = 'InvalidSysctlName';
}

/** The kernel refused, the interface does not exist, or the file held no integer. */
export class SysctlError extends Error {
  override name = 'SysctlError';
  constructor(
    message: string,
    /** errno code when the file system said no (ENOENT = no such interface). */
    readonly code: string | null,
  ) {
    super(message);
  }
}

/** Linux IFNAMSIZ is 16 with the NUL, so 15 visible characters at most. */
const IFNAME_MAX = 15;

/**
 * Why `name` is not a valid interface name for a conf/ path, or null when it is. Mirrors the
 * kernel's dev_valid_name() (no '/', ':' or white space, not '.' or '..', 1-15 bytes); `all`
 * and `default` are the two pseudo-interfaces of conf/ and pass like any other name.
 */
export function interfaceNameProblem(name: string): string | null {
  if (name.length === 0) return 'interface name is empty';
  if (Buffer.byteLength(name) > IFNAME_MAX) return `interface name ${JSON.stringify(name)} is longer than ${IFNAME_MAX} bytes`;
  if (name === '.' || name === '..') return `interface name ${JSON.stringify(name)} is not allowed`;
  if (/[/:\s\0]/.test(name)) return `interface name ${JSON.stringify(name)} contains '/', ':', white space or NUL`;
  return null;
}

const KEY_RE = /^[a-z][a-z0-9_]{0,63}$/;


export class Ipv4ConfSysctl {
  constructor(
    private readonly fs: SysctlFs = nodeSysctlFs,
    private readonly root: string = IPV4_CONF_ROOT,
  ) {}

  /** The file path; throws InvalidSysctlName before any file is touched. */
  path(iface: string, key: string): string {
    const problem = interfaceNameProblem(iface);
    if (problem !== null) throw new InvalidSysctlName(problem);
    if (!KEY_RE.test(key)) throw new InvalidSysctlName(`sysctl key ${JSON.stringify(key)} is not a conf/ key`);
    return `${this.root}/${iface}/${key}`;
  }

  async read(iface: string, key: string): Promise<number> {
    const path = this.path(iface, key);
    let text: string;
    try {
      text = await this.fs.readFile(path);
    } catch (err) {
      throw fsError('read', iface, key, err);
    }
    const trimmed = text.trim();
    if (!/^-?\d+$/.test(trimmed)) {
      throw new SysctlError(`${ipv4ConfName(iface, key)}: ${JSON.stringify(trimmed.slice(0, 40))} is not an integer`, null);
    }
    return Number(trimmed);
  }

  async write(iface: string, key: string, value: number): Promise<void> {
    if (!Number.isSafeInteger(value)) throw new InvalidSysctlName(`${value} is not an integer`);
    const path = this.path(iface, key);
    try {
      await this.fs.writeFile(path, `${value}\n`);
    } catch (err) {
      throw fsError('write', iface, key, err);
    }
  }
}

function fsError(op: 'read' | 'write', iface: string, key: string, err: unknown): SysctlError {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : null;
  const why = code === 'ENOENT' ? `no interface ${JSON.stringify(iface)}` : (e?.message ?? String(err));
  return new SysctlError(`cannot ${op} ${ipv4ConfName(iface, key)}: ${why}`, code);
}
