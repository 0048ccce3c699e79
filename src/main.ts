#!/usr/bin/env -S node --max-semi-space-size=1 --no-expose-wasm
/**
 * Process entry. The shebang's node flags are src/cli/relaunch.ts's NODE_FLAGS (a 1 MB young
 * generation: short collection pauses and a small heap); `run` started by plain `node`
 * relaunches itself with them before anything else is loaded, then the CLI is imported.
 */
import { relaunchWithNodeFlags } from './cli/relaunch.js';

relaunchWithNodeFlags();
await import('./cli/main.js');
