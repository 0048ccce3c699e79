/**
 * `haagent realserver up|down|check`: the LVS direct-routing real-server role (VIP on lo,
 * ARP sysctls), see docs/direct-routing.md. Needs no config file: everything comes from the
 * command line, so it runs from a oneshot systemd unit on hosts that are not directors.
 */
import type { Argv, CommandModule } from 'yargs';
import type { Vip } from '../config/types.js';
import { IpVipHost } from '../adapters/ip-host.js';
import { SpawnRunner } from '../adapters/runner.js';
import { Ipv4ConfSysctl, interfaceNameProblem } from '../adapters/sysctl.js';
import { realServerCheck, realServerDown, realServerUp, type RealServerDeps, type RunReport } from '../realserver/apply.js';
import { checkFromDirector } from '../realserver/arp-check.js';
import { DEFAULT_STATE_FILE, readBootId } from '../realserver/state.js';
import { parseRealServerVip } from '../realserver/vip.js';
import { EXIT } from './exit.js';

interface UpArgs {
  vip: string[];
  interface?: string;
  'state-file': string;
}

interface DownArgs {
  'state-file': string;
}

interface CheckArgs {
  vip: string[];
  interface?: string;
  'from-director': boolean;
  source?: string;
  'director-mac'?: string[];
}

function deps(stateFile: string): RealServerDeps {
  return { host: new IpVipHost(new SpawnRunner()), sysctl: new Ipv4ConfSysctl(), stateFile, bootId: () => readBootId() };
}

function usage(msg: string): null {
  process.stderr.write(`haagent realserver: ${msg}\n`);
  process.exitCode = EXIT.USAGE;
  return null;
}

/** The VIPs and interface of the command line, or null after a usage message. */
function wantedFrom(args: { vip: string[]; interface?: string }): { vips: Vip[]; iface: string | null } | null {
  const vips: Vip[] = [];
  for (const text of args.vip) {
    const r = parseRealServerVip(text);
    if (!r.ok) return usage(r.error);
    vips.push(r.vip);
  }
  if (vips.length === 0) return usage('name at least one --vip');
  const iface = args.interface ?? null;
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
  default: DEFAULT_STATE_FILE,
  describe: 'where up records what it changed, for down',
} as const;

const upCommand: CommandModule<object, UpArgs> = {
  command: 'up',
  describe: 'put the VIPs on lo and stop this host answering ARP for them (idempotent)',
  builder: (y: Argv) =>
    y
      .option('vip', { type: 'string', array: true, demandOption: true, describe: 'VIP (IPv4 /32 or IPv6 /128), repeatable' })
      .option('interface', { alias: 'i', type: 'string', describe: 'interface the VIP traffic arrives on (default: conf/all only)' })
      .option('state-file', stateFileOption) as never,
  handler: async (argv) => {
    const w = wantedFrom(argv);
    if (!w) return;
    print(await realServerUp(deps(argv['state-file']), w), 'nothing to change');
  },
};

const downCommand: CommandModule<object, DownArgs> = {
  command: 'down',
  describe: 'undo exactly what up changed (recorded in the state file)',
  builder: (y: Argv) => y.option('state-file', stateFileOption) as never,
  handler: async (argv) => {
    print(await realServerDown(deps(argv['state-file'])), 'nothing to undo');
  },
};

const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'exit 0 if this host is a safe real server for the VIPs; --from-director: ask the link who answers ARP for them',
  builder: (y: Argv) =>
    y
      .option('vip', { type: 'string', array: true, demandOption: true, describe: 'VIP, repeatable' })
      .option('interface', { alias: 'i', type: 'string', describe: 'interface (required with --from-director)' })
      .option('from-director', { type: 'boolean', default: false, describe: 'run on a director: send ARP requests for the VIP and judge every MAC that answers' })
      .option('source', { type: 'string', describe: 'with --from-director: IPv4 source of the requests (default: an address of the interface that is not the VIP)' })
      .option('director-mac', { type: 'string', array: true, describe: 'with --from-director: MACs of the directors, repeatable' }) as never,
  handler: async (argv) => {
    const w = wantedFrom(argv);
    if (!w) return;
    if (argv['from-director']) await fromDirector(argv, w.vips, w.iface);
    else await local(w);
  },
};

async function local(w: { vips: Vip[]; iface: string | null }): Promise<void> {
  const r = await realServerCheck(deps(DEFAULT_STATE_FILE), w);
  for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
  for (const p of r.problems) process.stdout.write(`problem: ${p}\n`);
  process.stdout.write(r.problems.length === 0 ? 'safe: this host holds the VIPs on lo and does not answer ARP for them\n' : 'NOT SAFE\n');
  process.exitCode = r.problems.length === 0 ? EXIT.OK : EXIT.FAILURE;
}

async function fromDirector(argv: CheckArgs, vips: readonly Vip[], iface: string | null): Promise<void> {
  if (iface === null) {
    usage('--from-director needs --interface');
    return;
  }
  const runner = new SpawnRunner();
  let code: number = EXIT.OK;
  for (const vip of vips) {
    const r = await checkFromDirector(
      { runner, host: new IpVipHost(runner) },
      { vip, iface, source: argv.source, directorMacs: argv['director-mac'] ?? [] },
    );
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

export const realserverCommand: CommandModule<object, object> = {
  command: 'realserver',
  describe: 'LVS direct-routing real-server role: VIP on lo without answering ARP for it',
  builder: (y: Argv) =>
    y
      .command(upCommand)
      .command(downCommand)
      .command(checkCommand)
      .demandCommand(1, 'name an action: up, down or check') as never,
  handler: () => undefined,
};
