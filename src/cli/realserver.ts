/**
 * `haagent realserver up|down|check`: the LVS direct-routing real-server role (VIP on lo,
 * ARP sysctls), see docs/direct-routing.md. Needs no config file: everything can come from the
 * command line, so it runs from a oneshot systemd unit on hosts that are not directors. What
 * the command line leaves out (the VIPs, the interface, the state file) is taken from the
 * realserver section of --config when that file exists, so the CLI and `haagent run` agree.
 */
import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { formatIssues, loadConfigFile } from '../config/load.js';
import type { RealServerConfig, Vip } from '../config/types.js';
import { IpVipHost } from '../adapters/ip-host.js';
import { SpawnRunner } from '../adapters/runner.js';
import { Ipv4ConfSysctl, interfaceNameProblem } from '../adapters/sysctl.js';
import { realServerCheck, realServerDown, realServerUp, type RealServerDeps, type RunReport } from '../realserver/apply.js';
import { checkFromDirector, type FromDirectorDeps } from '../realserver/arp-check.js';
import { DEFAULT_STATE_FILE, readBootId } from '../realserver/state.js';
import { parseRealServerVip } from '../realserver/vip.js';
import { EXIT } from './exit.js';

interface UpArgs {
  config: string;
  vip?: string[];
  interface?: string;
  'state-file'?: string;
}

interface DownArgs {
  config: string;
  'state-file'?: string;
  vip?: string[];
  interface?: string;
}

interface CheckArgs {
  config: string;
  vip?: string[];
  interface?: string;
  'from-director': boolean;
  source?: string;
  'director-mac'?: string[];
}

/** What the commands act on: the role's host and sysctls, and a director's ip and arping. */
export interface RealServerPorts {
  deps(stateFile: string): RealServerDeps;
  director(): FromDirectorDeps;
}

/** This host's: `ip`, /proc/sys and arping. */
const hostPorts: RealServerPorts = {
  deps: (stateFile) => ({ host: new IpVipHost(new SpawnRunner()), sysctl: new Ipv4ConfSysctl(), stateFile, bootId: () => readBootId() }),
  director: () => {
    const runner = new SpawnRunner();
    return { runner, host: new IpVipHost(runner) };
  },
};

function usage(msg: string): null {
  process.stderr.write(`haagent realserver: ${msg}\n`);
  process.exitCode = EXIT.USAGE;
  return null;
}

/**
 * The realserver section of the config file: null when the file does not exist or has no such
 * section; undefined after printing why the file cannot be used (exit 78).
 */
function configSection(file: string): RealServerConfig | null | undefined {
  if (!existsSync(file)) return null;
  const r = loadConfigFile(file);
  if (r.ok) return r.config.realserver;
  process.stderr.write(`${formatIssues(r.file, r.issues)}\nhaagent realserver: ${file} is not valid (give --vip and --state-file to do without it)\n`);
  process.exitCode = EXIT.CONFIG;
  return undefined;
}

interface WantedArgs {
  config: string;
  vip?: string[];
  interface?: string;
}

/**
 * The VIPs and interface of the command line, or else of the config's realserver section
 * (--interface still overrides); null after a usage message. `section` is looked up lazily.
 */
function wantedFrom(args: WantedArgs, section: () => RealServerConfig | null | undefined): { vips: Vip[]; iface: string | null } | null {
  const vips: Vip[] = [];
  let fromConfig: string | null = null;
  if (args.vip === undefined || args.vip.length === 0) {
    const rs = section();
    if (rs === undefined) return null;
    if (rs === null) return usage(`name at least one --vip, or list them in the realserver section of ${args.config}`);
    vips.push(...rs.vips);
    fromConfig = rs.interface;
  }
  for (const text of args.vip ?? []) {
    const r = parseRealServerVip(text);
    if (!r.ok) return usage(r.error);
    vips.push(r.vip);
  }
  const iface = args.interface ?? fromConfig;
  const problem = iface === null ? null : interfaceNameProblem(iface);
  if (problem !== null) return usage(problem);
  if (iface === 'lo') return usage('--interface is the interface the VIP traffic arrives on, not lo');
  return { vips, iface };
}

function print(r: RunReport, idle: string): void {
  for (const line of r.done) process.stdout.write(`${line}\n`);
  if (r.done.length === 0 && r.errors.length === 0) process.stdout.write(`${idle}\n`);
  for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  for (const e of r.errors) process.stderr.write(`error: ${e}\n`);
  // A warning from up is a host that is still unsafe (VIP on the Ethernet interface): fail.
  process.exitCode = r.errors.length + r.warnings.length > 0 ? EXIT.FAILURE : EXIT.OK;
}

const stateFileOption = {
  type: 'string',
  describe: `where up records what it changed, for down (default: realserver.stateFile of --config, else ${DEFAULT_STATE_FILE})`,
} as const;

/** Memoised: the config file is read at most once per command, and only when needed. */
function lazySection(file: string): () => RealServerConfig | null | undefined {
  let cached: { v: RealServerConfig | null | undefined } | null = null;
  return () => (cached ??= { v: configSection(file) }).v;
}

/** --state-file, else the config's, else the default; undefined after a config error. */
function stateFileFrom(explicit: string | undefined, section: () => RealServerConfig | null | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  const rs = section();
  return rs === undefined ? undefined : (rs?.stateFile ?? DEFAULT_STATE_FILE);
}

const upCommand = (ports: RealServerPorts): CommandModule<object, UpArgs> => ({
  command: 'up',
  describe: 'put the VIPs on lo and stop this host answering ARP for them (idempotent)',
  builder: (y: Argv) =>
    y
      .option('vip', { type: 'string', array: true, describe: 'VIP (IPv4 /32 or IPv6 /128), repeatable (default: realserver.vips of --config)' })
      .option('interface', { alias: 'i', type: 'string', describe: 'interface the VIP traffic arrives on (default: conf/all only)' })
      .option('state-file', stateFileOption) as never,
  handler: async (argv) => {
    const section = lazySection(argv.config);
    const w = wantedFrom(argv, section);
    if (!w) return;
    const stateFile = stateFileFrom(argv['state-file'], section);
    if (stateFile === undefined) return;
    print(await realServerUp(ports.deps(stateFile), w), 'nothing to change');
  },
});

const downCommand = (ports: RealServerPorts): CommandModule<object, DownArgs> => ({
  command: 'down',
  describe: 'undo exactly what up changed (recorded in the state file)',
  builder: (y: Argv) =>
    y
      .option('state-file', stateFileOption)
      // The arguments up took, so that `down` can be typed as `up` was; what is undone is what up recorded.
      .option('vip', { type: 'string', array: true, describe: 'accepted as up takes it; down undoes what up recorded' })
      .option('interface', { alias: 'i', type: 'string', describe: 'accepted as up takes it; down undoes what up recorded' }) as never,
  handler: async (argv) => {
    const stateFile = stateFileFrom(argv['state-file'], lazySection(argv.config));
    if (stateFile === undefined) return;
    const r = await realServerDown(ports.deps(stateFile));
    if (argv.vip !== undefined || argv.interface !== undefined) r.notes.push(`down undoes what up recorded in ${stateFile}; --vip and --interface are not needed`);
    print(r, 'nothing to undo');
  },
});

const checkCommand = (ports: RealServerPorts): CommandModule<object, CheckArgs> => ({
  command: 'check',
  describe: 'exit 0 if this host is a safe real server for the VIPs; --from-director: ask the link who answers ARP for them',
  builder: (y: Argv) =>
    y
      .option('vip', { type: 'string', array: true, describe: 'VIP, repeatable (default: realserver.vips of --config)' })
      .option('interface', { alias: 'i', type: 'string', describe: 'interface (required with --from-director)' })
      .option('from-director', { type: 'boolean', default: false, describe: 'run on a director: send ARP requests for the VIP and judge every MAC that answers' })
      .option('source', { type: 'string', describe: 'with --from-director: IPv4 source of the requests (default: an address of the interface that is not the VIP)' })
      .option('director-mac', { type: 'string', array: true, describe: 'with --from-director: MACs of the directors, repeatable' }) as never,
  handler: async (argv) => {
    const w = wantedFrom(argv, lazySection(argv.config));
    if (!w) return;
    if (argv['from-director']) await fromDirector(ports, argv, w.vips, w.iface);
    else await local(ports, w);
  },
});

async function local(ports: RealServerPorts, w: { vips: Vip[]; iface: string | null }): Promise<void> {
  const r = await realServerCheck(ports.deps(DEFAULT_STATE_FILE), w);
  for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
  for (const p of r.problems) process.stdout.write(`problem: ${p}\n`);
  process.stdout.write(r.problems.length === 0 ? 'safe: this host holds the VIPs on lo and does not answer ARP for them\n' : 'NOT SAFE\n');
  process.exitCode = r.problems.length === 0 ? EXIT.OK : EXIT.FAILURE;
}

async function fromDirector(ports: RealServerPorts, argv: CheckArgs, vips: readonly Vip[], iface: string | null): Promise<void> {
  if (iface === null) {
    usage('--from-director needs --interface');
    return;
  }
  const director = ports.director();
  let code: number = EXIT.OK;
  for (const vip of vips) {
    const r = await checkFromDirector(director, { vip, iface, source: argv.source, directorMacs: argv['director-mac'] ?? [] });
    if (!r.ok) {
      process.stderr.write(`error: ${vip.address}: ${r.error}\n`);
      code = r.unavailable ? EXIT.UNAVAILABLE : Math.max(code, EXIT.FAILURE);
      continue;
    }
    const role = r.held ? 'this director holds it' : 'this host does not hold it';
    process.stdout.write(`${vip.address}: ${r.argv.join(' ')} (${role}; own MAC ${r.ownMac ?? 'unknown'})\n`);
    if (r.verdict.macs.length === 0) process.stdout.write('  no MAC answered\n');
    for (const m of r.verdict.macs) process.stdout.write(`  ${m.mac} answered ${m.replies} time(s) [${m.kind}]\n`);
    for (const p of r.verdict.problems) process.stdout.write(`  problem: ${p}\n`);
    if (r.verdict.problems.length > 0 && code === EXIT.OK) code = EXIT.FAILURE;
  }
  process.exitCode = code;
}

/** The command on `ports` (this host's; tests give fakes). */
export const realserverCommandOn = (ports: RealServerPorts): CommandModule<object, object> => ({
  command: 'realserver',
  describe: 'LVS direct-routing real-server role: VIP on lo without answering ARP for it',
  builder: (y: Argv) =>
    y
      .command(upCommand(ports))
      .command(downCommand(ports))
      .command(checkCommand(ports))
      .demandCommand(1, 'name an action: up, down or check') as never,
  handler: () => undefined,
});

export const realserverCommand = realserverCommandOn(hostPorts);
