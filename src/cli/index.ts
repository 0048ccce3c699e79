/**
 * The command registry: one file per command, one line per command here.
 * Each module exports a yargs CommandModule; handlers set process.exitCode.
 */
import type { CommandModule } from 'yargs';
import { checkConfigCommand } from './check-config.js';
import { eventsCommand } from './events.js';
import { importKeepalivedCommand } from './import-keepalived.js';
import { keygenCommand } from './keygen.js';
import { maintenanceCommand, standbyCommand, takeoverCommand } from './operator.js';
import { realserverCommand } from './realserver.js';
import { releaseCommand } from './release.js';
import { reloadCommand } from './reload.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<object, any>[] = [
  runCommand,
  statusCommand,
  releaseCommand,
  checkConfigCommand,
  keygenCommand,
  realserverCommand,
  takeoverCommand,
  standbyCommand,
  maintenanceCommand,
  reloadCommand,
  eventsCommand,
  importKeepalivedCommand,
];
