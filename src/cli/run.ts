/** `haagent run`: the agent in the foreground (systemd runs this). */
import type { CommandModule } from 'yargs';
import { loadKeys } from '../config/key.js';
import { ServiceManager, takeServiceEnv } from '../adapters/service-manager.js';
import { Agent } from '../daemon/agent.js';
import { createLogger, LOG_FORMATS, type LogFormat } from '../log.js';
import { configOrExit, type ConfigArgs } from './common.js';
import { EXIT } from './exit.js';
import { realServerRoleFor, runRealServerOnly, startOrUndo } from './run-role.js';

interface RunArgs extends ConfigArgs {
  'log-format'?: LogFormat;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'run the agent in the foreground',
  builder: (y) =>
    y.option('log-format', { type: 'string', choices: LOG_FORMATS, describe: 'log line format (default: the config\'s logFormat, auto)' }) as never,
  handler: async (argv) => {
    const config = configOrExit(argv.config);
    if (!config) return;
    // The flag wins over the file (a terminal run of a unit's config, say); a reload keeps the logger.
    const log = createLogger(config.logLevel, config.node, undefined, argv['log-format'] ?? config.logFormat);
    // Taken out of the environment: hooks and tools must not speak to systemd in our name.
    const service = new ServiceManager({ env: takeServiceEnv(process.env), pid: process.pid, log, timers: { setInterval, clearInterval: (h) => clearInterval(h as NodeJS.Timeout) } });
    // A file without groups is a real server's: the role alone, no agent (src/cli/run-role.ts).
    if (!config.director) {
      process.exitCode = await runRealServerOnly(config, log, service);
      service.close();
      return;
    }
    const keys = loadKeys(config.heartbeat);
    if (!keys.ok) {
      for (const e of keys.errors) process.stderr.write(`haagent: ${e}\n`);
      process.exitCode = EXIT.CONFIG;
      return;
    }
    const role = realServerRoleFor(config, log);
    if (role && !(await startOrUndo(role, log))) {
      process.exitCode = EXIT.FAILURE;
      return;
    }
    const agent = new Agent({ configPath: argv.config, config, keys: keys.keys, log, service });
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => agent.stop(sig));
    process.on('SIGHUP', () => void agent.reload());
    process.on('uncaughtException', (err) => {
      log.fatal({ err }, 'uncaught exception: releasing VIPs and exiting');
      void agent.forceRelease().finally(() => process.exit(EXIT.FAILURE));
    });
    try {
      await agent.start();
    } catch (err) {
      log.fatal({ err }, 'cannot start');
      process.stderr.write(`haagent: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
      // Release only what this process may have added: a start refused early (another agent
      // owns the control socket, a tool is missing) must not touch a live agent's VIP.
      if (agent.touchedHost) await agent.forceRelease();
      await agent.abort();
      await role?.stop();
      process.exit(EXIT.UNAVAILABLE);
    }
    process.exitCode = await agent.done;
    // The role outlives the agent: it never depended on the election.
    await role?.stop();
  },
};
