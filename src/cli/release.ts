/**
 * `haagent release`: remove this node's VIPs without a running agent. systemd's
 * ExecStopPost runs it after any stop, a crash included, so a killed agent never leaves
 * its VIP behind (keepalived, ucarp and Heartbeat all do).
 */
import type { CommandModule } from 'yargs';
import { IpVipHost } from '../adapters/ip-host.js';
import { SpawnRunner } from '../adapters/runner.js';
import { probeSocket } from '../daemon/control.js';
import { configOrExit, type ConfigArgs } from './common.js';
import { EXIT } from './exit.js';

interface ReleaseArgs extends ConfigArgs {
  force: boolean;
}

export const releaseCommand: CommandModule<object, ReleaseArgs> = {
  command: 'release',
  describe: "remove this node's VIPs (for use after the agent stopped or crashed)",
  builder: (y) => y.option('force', { type: 'boolean', default: false, describe: 'even if an agent answers on the control socket' }) as never,
  handler: async (argv) => {
    const config = configOrExit(argv.config);
    if (!config) return;
    if (!argv.force && (await probeSocket(config.control.socket))) {
      process.stderr.write(`haagent: an agent is running (${config.control.socket}); stop it first or use --force\n`);
      process.exitCode = EXIT.FAILURE;
      return;
    }
    const host = new IpVipHost(new SpawnRunner());
    let failed = 0;
    for (const g of config.groups) {
      const vip = `${g.vip.address}/${g.vip.prefix}`;
      const r = await host.ensureAbsent(g.vip, g.interface);
      if (!r.ok) {
        failed++;
        process.stderr.write(`${g.name}: cannot remove ${vip} from ${g.interface}: ${r.error}\n`);
      } else process.stdout.write(`${g.name}: ${vip} ${r.changed ? 'removed from' : 'was not on'} ${g.interface}\n`);
    }
    process.exitCode = failed ? EXIT.FAILURE : EXIT.OK;
  },
};
