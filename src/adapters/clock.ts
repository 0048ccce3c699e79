/**
 * The real Clock. performance.now() is monotonic (CLOCK_MONOTONIC underneath), so an NTP step
 * or an operator's `date -s` cannot make a peer look dead or a deadline fire early.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../ports/index.js';

export const monotonicClock: Clock = {
  now: () => performance.now(),
};
