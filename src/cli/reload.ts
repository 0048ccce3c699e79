/** `haagent reload`: ask the agent to re-read its config (the same as SIGHUP, with an answer). */
import type { CommandModule } from 'yargs';
import { request } from '../daemon/control.js';
import { notRunning, socketOrExit, type ConfigArgs } from './common.js';
import { EXIT } from './exit.js';

interface ReloadArgs extends ConfigArgs {
  socket?: string;
}

export const reloadCommand: CommandModule<object, ReloadArgs> = {
  command: 'reload',
  describe: 'validate the config file and apply it to the running agent (invalid: nothing changes)',
  builder: (y) => y.option('socket', { type: 'string', describe: 'control socket (default: from the config)' }) as never,
  handler: async (argv) => {
    const socket = socketOrExit(argv);
    if (!socket) return;
    try {
      const r = await request(socket, { cmd: 'reload' });
      (r.ok ? process.stdout : process.stderr).write(`${r.message ?? ''}\n`);
      process.exitCode = r.ok ? EXIT.OK : EXIT.CONFIG;
    } catch (e) {
      notRunning(socket, e);
    }
  },
};
