/** `haagent events`: follow the agent's event stream (one JSON line per transition) until interrupted. */
import net from 'node:net';
import type { CommandModule } from 'yargs';
import { notRunning, socketOrExit, type ConfigArgs } from './common.js';
import { safeJson } from '../printable.js';

interface EventsArgs extends ConfigArgs {
  socket?: string;
}

export const eventsCommand: CommandModule<object, EventsArgs> = {
  command: 'events',
  describe: 'follow state transitions live, as JSON lines',
  builder: (y) => y.option('socket', { type: 'string', describe: 'control socket (default: from the config)' }) as never,
  handler: async (argv) => {
    const socket = socketOrExit(argv);
    if (!socket) return;
    await new Promise<void>((resolve) => {
      const c = net.connect(socket);
      let first = true;
      let buf = '';
      c.setEncoding('utf8');
      c.once('connect', () => c.write(JSON.stringify({ cmd: 'events' }) + '\n'));
      c.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (first) {
            first = false; // the {"ok":true} acknowledgement
            continue;
          }
          // JSON already, from the agent; what JSON leaves raw but a terminal acts on is escaped.
          process.stdout.write(safeJson(line) + '\n');
        }
      });
      c.once('error', (e: NodeJS.ErrnoException) => {
        notRunning(socket, e);
        resolve();
      });
      c.once('close', () => resolve());
    });
  },
};
