// The sysctl adapter (src/adapters/sysctl.ts) over an in-memory file system: path validation
// (no way out of /proc/sys/net/ipv4/conf), integer parsing, errors with their errno code.
import t from 'tap';
import { Ipv4ConfSysctl, InvalidSysctlName, SysctlError, interfaceNameProblem, type SysctlFs } from '../../src/adapters/sysctl.js';
import { ipv4ConfName } from '../../src/config/sysctl-name.js';

const ROOT = '/proc/sys/net/ipv4/conf';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: fake`), { code });
}

/** Map-backed files; like the real 'r+' open, writing a missing path fails with ENOENT. */
class MemFs implements SysctlFs {
  readonly files = new Map<string, string>();
  readonly denied = new Set<string>();
  readonly reads: string[] = [];
  async readFile(path: string): Promise<string> {
    this.reads.push(path);
    const v = this.files.get(path);
    if (v === undefined) throw errno('ENOENT');
    return v;
  }
  async writeFile(path: string, data: string): Promise<void> {
    if (this.denied.has(path)) throw errno('EACCES');
    if (!this.files.has(path)) throw errno('ENOENT');
    this.files.set(path, data);
  }
}

t.test('interface names', async (t) => {
  for (const ok of ['eth0', 'all', 'default', 'eth0.100', 'br-lan', 'x'.repeat(15)]) t.equal(interfaceNameProblem(ok), null, ok);
  for (const bad of ['', '.', '..', '../all', 'eth0/', 'a/b', 'eth0:1', 'eth 0', 'eth0\n', 'a\0b', 'x'.repeat(16)]) {
    t.not(interfaceNameProblem(bad), null, `refused: ${JSON.stringify(bad)}`);
  }
});

t.test('path refuses bad names before touching any file', async (t) => {
  const fs = new MemFs();
  const s = new Ipv4ConfSysctl(fs);
  t.equal(s.path('eth0', 'arp_ignore'), `${ROOT}/eth0/arp_ignore`);
  for (const [iface, key] of [['..', 'arp_ignore'], ['../../kernel', 'hostname'], ['eth0', '../x'], ['eth0', 'ARP'], ['eth0', '']]) {
    t.throws(() => s.path(iface, key), InvalidSysctlName, `${iface} ${key}`);
    await t.rejects(s.read(iface, key), InvalidSysctlName);
    await t.rejects(s.write(iface, key, 1), InvalidSysctlName);
  }
  t.same(fs.reads, [], 'no file was read');
});

t.test('read and write', async (t) => {
  const fs = new MemFs();
  fs.files.set(`${ROOT}/all/arp_ignore`, '0\n');
  fs.files.set(`${ROOT}/eth0/arp_announce`, 'banana\n');
  const s = new Ipv4ConfSysctl(fs);
  t.equal(await s.read('all', 'arp_ignore'), 0);
  await s.write('all', 'arp_ignore', 1);
  t.equal(fs.files.get(`${ROOT}/all/arp_ignore`), '1\n');
  t.equal(await s.read('all', 'arp_ignore'), 1);
  await t.rejects(s.read('eth0', 'arp_announce'), /is not an integer/);
  await t.rejects(s.write('all', 'arp_ignore', 1.5), InvalidSysctlName);
});

t.test('errors carry the errno code and the sysctl name', async (t) => {
  const fs = new MemFs();
  fs.files.set(`${ROOT}/all/arp_ignore`, '0\n');
  fs.denied.add(`${ROOT}/all/arp_ignore`);
  const s = new Ipv4ConfSysctl(fs);
  const missing = await s.read('eth9', 'arp_ignore').catch((e: unknown) => e);
  t.type(missing, SysctlError);
  t.equal((missing as SysctlError).code, 'ENOENT');
  t.match((missing as SysctlError).message, 'cannot read net.ipv4.conf.eth9.arp_ignore: no interface "eth9"');
  const denied = await s.write('all', 'arp_ignore', 1).catch((e: unknown) => e);
  t.equal((denied as SysctlError).code, 'EACCES');
  t.equal(fs.files.get(`${ROOT}/all/arp_ignore`), '0\n', 'unchanged');
});

t.test('sysctl(8) spelling of a VLAN interface', async (t) => {
  t.equal(ipv4ConfName('eth0.100', 'arp_ignore'), 'net.ipv4.conf.eth0/100.arp_ignore');
  t.equal(new Ipv4ConfSysctl(new MemFs()).path('eth0.100', 'arp_ignore'), `${ROOT}/eth0.100/arp_ignore`, 'the file path keeps the dot');
});
