/**
 * `haagent status [--json | --check]`: ask the running agent over its control socket.
 * Plain and --json: exit 0 when no group is in fault, 1 when one is (or the agent refused),
 * 3 when no agent answers, 77 when the socket keeps this user out. --check: one line and the
 * monitoring plugin codes 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (src/daemon/status-check.ts).
 */
import type { CommandModule } from 'yargs';
import { formatStatus, type StatusRecord } from '../daemon/status-view.js';
import { checkVerdict, unknownVerdict, type CheckVerdict } from '../daemon/status-check.js';
import { failedSocket, notRunning, readRequest, readSocketsOrExit, type ConfigArgs, type ReadSockets } from './common.js';
import { EXIT } from './exit.js';
import { printable, safeJson } from '../printable.js';

interface StatusArgs extends ConfigArgs {
  json: boolean;
  check?: boolean;
  'conflict-window'?: number;
  socket?: string;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'show the state of every group and peer',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'print the stable JSON record' })
      .option('check', { type: 'boolean', default: false, describe: 'one line for monitoring; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN' })
      .option('conflict-window', { type: 'number', default: 600, describe: 'with --check: seconds a VIP conflict keeps the check at WARNING' })
      .option('socket', { type: 'string', describe: 'control socket (default: from the config)' }) as never,
  handler: async (argv) => {
    if (argv.check && argv.json) {
      process.stderr.write('haagent: --check and --json exclude each other\n(see haagent --help)\n');
      process.exitCode = EXIT.USAGE;
      return;
    }
    const sockets = readSocketsOrExit(argv);
    if (!sockets) return;
    if (argv.check) {
      const v = await checkLine(sockets, Math.max(0, argv['conflict-window'] ?? 600) * 1000);
      process.stdout.write(v.line + '\n');
      process.exitCode = v.code;
      return;
    }
    try {
      const res = await readRequest(sockets, { cmd: 'status' });
      if (!res.ok) {
        process.stderr.write(`haagent: ${printable(res.message ?? 'status refused')}\n`);
        process.exitCode = EXIT.FAILURE;
        return;
      }
      const s = res.status as StatusRecord;
      // Names from the network are escaped in both forms (src/printable.ts).
      process.stdout.write(argv.json ? safeJson(JSON.stringify(s, null, 2)) + '\n' : formatStatus(s));
      // 0 no group in fault, 1 a group in fault, 3 no agent (docs/operations.md, Monitoring).
      if (s.groups.some((g) => g.state === 'fault')) process.exitCode = EXIT.FAILURE;
    } catch (e) {
      notRunning(failedSocket(sockets, e), e);
    }
  },
};

/** The --check verdict: the agent's record judged, or UNKNOWN when it cannot be had. */
async function checkLine(sockets: ReadSockets, conflictWindowMs: number): Promise<CheckVerdict> {
  try {
    const res = await readRequest(sockets, { cmd: 'status' });
    if (!res.ok) return unknownVerdict(`agent refused status: ${res.message ?? 'no reason'}`);
    return checkVerdict(res.status as StatusRecord, { conflictWindowMs });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const what = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied on' : 'no agent on';
    return unknownVerdict(`${what} the control socket ${failedSocket(sockets, e)} (${err.code ?? err.message})`);
  }
}
