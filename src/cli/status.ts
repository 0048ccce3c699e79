/**
 * `haagent status [--json]`: ask the running agent over its control socket. Exit 0 when every
 * group is serviceable, 1 when one is in fault, 3 when no agent answers: usable as a
 * monitoring check.
 */
import type { CommandModule } from 'yargs';
import { formatStatus, type StatusRecord } from '../daemon/status-view.js';
import { failedSocket, notRunning, readRequest, readSocketsOrExit, type ConfigArgs } from './common.js';
import { EXIT } from './exit.js';
import { printable, safeJson } from '../printable.js';

interface StatusArgs extends ConfigArgs {
  json: boolean;
  socket?: string;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'show the state of every group and peer',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'print the stable JSON record' })
      .option('socket', { type: 'string', describe: 'control socket (default: from the config)' }) as never,
  handler: async (argv) => {
    const sockets = readSocketsOrExit(argv);
    if (!sockets) return;
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
      // A monitoring check's answer: 0 all groups serviceable, 1 a group in fault, 3 no agent.
      if (s.groups.some((g) => g.state === 'fault')) process.exitCode = EXIT.FAILURE;
    } catch (e) {
      notRunning(failedSocket(sockets, e), e);
    }
  },
};
