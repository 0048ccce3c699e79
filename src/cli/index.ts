/**
 * The command registry: one file per command, one line per command here.
 * Each module exports a yargs CommandModule; handlers set process.exitCode.
 */
import type { CommandModule } from 'yargs';

export const commands: CommandModule<object, any>[] = [];
