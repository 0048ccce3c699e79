/**
 * Operator commands over the control socket: `takeover [GROUP]`, `standby [GROUP]`,
 * `maintenance on|off`. Each asks the agent, then follows its status until the outcome is
 * visible (or a bound passes) and prints what happened; non-zero exit with the reason when
 * the agent refused or the outcome did not come.
 */
import type { Argv, CommandModule } from 'yargs';
import { request, type ControlRequest } from '../daemon/control.js';
import type { StatusRecord } from '../daemon/status-view.js';
import { notRunning, socketOrExit, type ConfigArgs } from './common.js';
import { EXIT } from './exit.js';
import { printable } from '../printable.js';

interface OpArgs extends ConfigArgs {
  group?: string;
  socket?: string;
  wait: number;
}

type Want = (s: StatusRecord, group: string | undefined) => boolean;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(socket: string): Promise<StatusRecord> {
  const r = await request(socket, { cmd: 'status' });
  return r.status as StatusRecord;
}

function pick(s: StatusRecord, group: string | undefined) {
  return s.groups.filter((g) => group === undefined || g.name === group);
}

function summary(s: StatusRecord, group: string | undefined): string {
  return pick(s, group)
    .map((g) => printable(`${g.name}: ${g.state} (active node: ${g.activeNode ?? 'none'})`))
    .join('\n');
}

async function operate(argv: OpArgs, req: ControlRequest, want: Want): Promise<void> {
  const socket = socketOrExit(argv);
  if (!socket) return;
  let reply;
  try {
    reply = await request(socket, req);
  } catch (e) {
    notRunning(socket, e);
    return;
  }
  process.stdout.write(`${printable(reply.message ?? '')}\n`);
  if (!reply.ok) {
    process.exitCode = EXIT.FAILURE;
    return;
  }
  const started = Date.now();
  let s = await status(socket);
  // Bounded in count and time: poll every 20 ms up to --wait ms.
  for (let i = 0; i < 10_000 && !want(s, argv.group) && Date.now() - started < argv.wait; i++) {
    await sleep(20);
    s = await status(socket);
  }
  const done = want(s, argv.group);
  process.stdout.write(`${summary(s, argv.group)}\n${done ? `done in ${Date.now() - started} ms` : `not done after ${argv.wait} ms`}\n`);
  process.exitCode = done ? EXIT.OK : EXIT.FAILURE;
}

const common = (y: Argv<ConfigArgs>) =>
  y
    .option('socket', { type: 'string', describe: 'control socket (default: from the config)' })
    .option('wait', { type: 'number', default: 5000, describe: 'how long to follow the outcome (ms)' });

export const takeoverCommand: CommandModule<object, OpArgs> = {
  command: 'takeover [group]',
  describe: 'become active now for GROUP (default: every group), if eligible',
  builder: (y) => common(y as Argv<ConfigArgs>).positional('group', { type: 'string' }) as never,
  handler: (argv) =>
    operate(argv, argv.group ? { cmd: 'takeover', group: argv.group } : { cmd: 'takeover' }, (s, g) =>
      pick(s, g).every((x) => x.state === 'active' && x.vipPresent === true && x.activeNode === s.node),
    ),
};

export const standbyCommand: CommandModule<object, OpArgs> = {
  command: 'standby [group]',
  describe: 'hand GROUP (default: every group) to the best peer now; stay standby until takeover',
  builder: (y) => common(y as Argv<ConfigArgs>).positional('group', { type: 'string' }) as never,
  handler: (argv) =>
    operate(argv, argv.group ? { cmd: 'standby', group: argv.group } : { cmd: 'standby' }, (s, g) =>
      pick(s, g).every((x) => x.state !== 'active' && x.activeNode !== null && x.activeNode !== s.node),
    ),
};

interface MaintArgs extends OpArgs {
  mode: string;
}

export const maintenanceCommand: CommandModule<object, MaintArgs> = {
  command: 'maintenance <mode>',
  describe: 'on: leave every election (kept across restarts); off: come back',
  builder: (y) => common(y as Argv<ConfigArgs>).positional('mode', { choices: ['on', 'off'] as const, demandOption: true }) as never,
  handler: (argv) => {
    const on = argv.mode === 'on';
    return operate(argv, { cmd: 'maintenance', on }, (s) => s.maintenance === on && (!on || s.groups.every((x) => x.state !== 'active')));
  },
};
