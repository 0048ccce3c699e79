/**
 * `haagent check-config [--config F]`: validate the configuration and the key file without
 * touching anything. Valid: the effective configuration (defaults filled in) on stdout, exit 0.
 * Invalid: every issue on stderr, exit 78 (EX_CONFIG), stdout empty, so scripts can rely on
 * "stdout has a configuration" meaning "it is good". It runs on the node (the key file's owner
 * is checked too), so the heartbeat's bind addresses are checked against the host's own, when
 * they can be read; when not, the output says they were not checked.
 */
import type { CommandModule } from 'yargs';
import { checkUid, loadKeys } from '../config/key.js';
import { keyId } from '../wire/keyring.js';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';
import { formatIssues, renderEffectiveConfig } from '../config/render.js';
import { EXIT } from './exit.js';
import { hostAddresses, type HostAddresses } from '../adapters/host-addresses.js';
import { groupVips } from '../config/vip-device.js';

/** Where text goes; process.stdout/stderr in production, a string collector in tests. */
export interface TextOut {
  write(text: string): unknown;
}

/** The whole command; returns the exit code. `host` reads this host's addresses (tests pass a fake). */
export function checkConfig(path: string, out: TextOut, err: TextOut, host: () => HostAddresses = hostAddresses): number {
  const local = host();
  const r = loadConfigFile(path, { localAddresses: local.ok ? local.addresses : null });
  if (!r.ok) {
    const n = r.issues.length;
    err.write(`${formatIssues(r.file, r.issues)}\nhaagent: ${r.file}: ${n} issue${n === 1 ? '' : 's'}, configuration not valid\n`);
    return EXIT.CONFIG;
  }
  // A real server's file (no groups) sends no heartbeat: it has no key to check. The key files
  // are checked as the agent reads them, owner included: root or the uid running this, or for
  // root the service user's (checkUid), the owner the installation gives the key.
  const keys = r.config.director ? loadKeys(r.config.heartbeat, checkUid()) : null;
  if (keys && !keys.ok) {
    err.write(keys.errors.map((e) => `haagent: ${e}\n`).join(''));
    return EXIT.CONFIG;
  }
  // Key ids (never the keys) let an operator compare nodes, e.g. before the next rotation step.
  const what = !keys
    ? 'real-server role only, no key file needed'
    : `key file ok (key id ${keyId(keys.keys.send)})` + (keys.keys.accept ? `, accept key file ok (key id ${keyId(keys.keys.accept)})` : '');
  out.write(`# effective configuration of ${path} (defaults filled in); ${what}\n`);
  const binds = r.config.heartbeat.bind !== null || r.config.heartbeat.peers.some((p) => p.bind !== undefined);
  if (!local.ok && binds && r.config.director) out.write(`# bind addresses not checked against this host's: ${local.why}\n`);
  for (const w of missingInterfaces(r.config, local)) err.write(`haagent: warning: ${w}\n`);
  out.write(renderEffectiveConfig(r.config));
  return EXIT.OK;
}

/**
 * Interfaces the file names that this host lacks: a warning, not an error (keepalived -t does
 * the same), since a VLAN or bond may be created after the agent's unit is checked; the agent
 * then sees the link down, so the group is in fault until it exists.
 */
export function missingInterfaces(config: Config, local: HostAddresses): string[] {
  if (!local.ok || local.interfaces === undefined) return [];
  const have = local.interfaces;
  const out: string[] = [];
  config.groups.forEach((g, i) => {
    // A LevIP group's shared IP goes on lo, but its interface is still where it answers ARP.
    if (!have.has(g.interface)) out.push(`groups[${i}].interface: no interface ${g.interface} on this host (the group stays in fault until it exists)`);
    for (const t of g.trackInterfaces ?? []) if (!have.has(t)) out.push(`groups[${i}].trackInterfaces: no interface ${t} on this host (tracked as down until it exists)`);
    // A VIP on another interface than the group's (vips:) is tracked as well: its link down is a fault.
    const others = [...new Set(groupVips(g).map((p) => p.iface))].filter((d) => d !== g.interface && !have.has(d));
    for (const d of others) {
      const on = groupVips(g).filter((p) => p.iface === d).map((p) => p.vip.address).join(', ');
      out.push(`groups[${i}].vips: no interface ${d} on this host, for ${on} (the group stays in fault until it exists)`);
    }
  });
  return out;
}

export const checkConfigCommand: CommandModule<object, { config: string }> = {
  command: 'check-config',
  describe: 'validate the configuration and key file; print the effective configuration',
  handler: (argv) => {
    process.exitCode = checkConfig(argv.config, process.stdout, process.stderr);
  },
};
