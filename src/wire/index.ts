/** The wire module's public surface: codec, replay guard, boot generation, drop counters. */
export * from './types.js';
export { decode, encode, encodedLength, validateMessage, MAC_LEN, MAX_DATAGRAM, MAX_GROUPS, MAX_NAME_BYTES, MIN_DATAGRAM } from './codec.js';
export { ReplayGuard, DEFAULT_REPLAY_CAPACITY } from './replay.js';
export type { ReplayVerdict, ReplayMark, ReplayGuardOptions } from './replay.js';
export { nextBootId, loadAndBumpBootId, parseBootId } from './boot-id.js';
export type { BootIdResult } from './boot-id.js';
export { DropCounters } from './counters.js';
export type { DropSnapshot } from './counters.js';
