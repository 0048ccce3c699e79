/**
 * `haagent release`: remove this node's VIPs without a running agent. systemd's
 * ExecStopPost runs it after any stop, a crash included, so a killed agent never leaves
 * its VIP behind (keepalived, ucarp and Heartbeat all do); also when the file has been
 * half edited meanwhile (release-plan.ts).
 */
import { vipCidr } from '../config/vip.js';
import type { CommandModule } from 'yargs';
import { IpVipHost } from '../adapters/ip-host.js';
import { IpLinkOps, type LinkOps } from '../adapters/bgp-device.js';
import { Ipv4ConfSysctl } from '../adapters/sysctl.js';
import { levipHostFor } from '../levip/host.js';
import type { SysctlAccess } from '../realserver/apply.js';
import type { VipHost } from '../ports/index.js';
import { SpawnRunner } from '../adapters/runner.js';
import { socketInUse } from '../daemon/control.js';
import { readFileSync } from 'node:fs';
import { formatIssues, loadConfigFile } from '../config/load.js';
import type { ConfigArgs } from './common.js';
import { planFromConfig, planFromText, type ReleasePlan } from './release-plan.js';
import { EXIT } from './exit.js';

interface ReleaseArgs extends ConfigArgs {
  force: boolean;
}

/** What release changes: the host's addresses and its ARP sysctls. */
export interface ReleasePorts {
  vips: Pick<VipHost, 'ensureAbsent'>;
  sysctl: SysctlAccess;
  /** whether a bgp device exists: a VIP cannot be on one that does not (absent: not asked). */
  links?: Pick<LinkOps, 'exists'>;
}

/** `ip` and /proc/sys of this host, made when a release runs. */
const hostPorts = (): ReleasePorts => {
  const runner = new SpawnRunner();
  return { vips: new IpVipHost(runner), sysctl: new Ipv4ConfSysctl(), links: new IpLinkOps(runner) };
};

/** The command on the ports `ports()` makes (this host's; tests give fakes). */
export const releaseCommandOn = (ports: () => ReleasePorts): CommandModule<object, ReleaseArgs> => ({
  command: 'release',
  describe: "remove this node's VIPs (for use after the agent stopped or crashed)",
  builder: (y) => y.option('force', { type: 'boolean', default: false, describe: 'even if an agent answers on the control socket' }) as never,
  handler: async (argv) => {
    const plan = releasePlan(argv.config);
    if (!argv.force && (await socketInUse(plan.socket))) {
      process.stderr.write(`haagent: an agent is running (${plan.socket}); stop it first or use --force\n`);
      process.exitCode = EXIT.FAILURE;
      return;
    }
    const { vips: host, sysctl, links } = ports();
    let failed = plan.unreadable.length;
    for (const u of plan.unreadable) process.stderr.write(`${u}: not released\n`);
    for (const g of plan.groups) {
      const vip = vipCidr(g.vip);
      const dev = g.dev; // lo for a LevIP group
      let r = await host.ensureAbsent(g.vip, dev);
      // A bgp device the agent never created holds nothing.
      if (!r.ok && g.bgp && links && (await links.exists(dev)) === false) r = { ok: true, changed: false };
      if (!r.ok) {
        failed++;
        process.stderr.write(`${g.name}: cannot remove ${vip} from ${dev}: ${r.error}\n`);
      } else process.stdout.write(`${g.name}: ${vip} ${r.changed ? 'removed from' : 'was not on'} ${dev}\n`);
    }
    // LevIP ARP sysctls a killed agent left behind (even mid-slot): only once the IPs are gone.
    if (failed === 0) failed += await restoreLevip(plan.stateDir, sysctl);
    // Released what it could; an invalid file is still reported as one (ExecStopPost shows it).
    process.exitCode = failed ? EXIT.FAILURE : plan.lenient ? EXIT.CONFIG : EXIT.OK;
  },
});

export const releaseCommand = releaseCommandOn(hostPorts);

/** The file's plan; a file that does not validate is reported and read leniently (release-plan.ts). */
function releasePlan(file: string): ReleasePlan {
  const r = loadConfigFile(file);
  if (r.ok) return planFromConfig(r.config);
  process.stderr.write(`${formatIssues(r.file, r.issues)}\nhaagent: warning: releasing what the invalid file still names\n`);
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no file: the defaults (no groups), and the LevIP record of the default state directory
  }
  return planFromText(text);
}

/** Gives back the ARP sysctls recorded by a LevIP agent; returns 1 on failure, 0 otherwise. */
async function restoreLevip(stateDir: string, sysctl: SysctlAccess): Promise<number> {
  try {
    const r = await levipHostFor(stateDir, sysctl).restore();
    for (const d of r.done) process.stdout.write(`levip: ${d}\n`);
    for (const w of r.warnings) process.stderr.write(`levip: ${w}\n`);
    for (const e of r.errors) process.stderr.write(`levip: cannot restore ${e}\n`);
    return r.errors.length > 0 ? 1 : 0;
  } catch (e) {
    process.stderr.write(`levip: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
