import type { Clock, Micros } from '../core/clock';
import type { Timers } from './timers';

/**
 * Longest single wait. Timers run on a monotonic clock and deadlines are wall-clock instants, so
 * longer waits re-check once a minute (a clock step is noticed within that).
 */
export const MAX_SLEEP_MS = 60_000;

export interface Wakeups {
  /** (Re)arms one timer for the earliest wake-up any session needs. */
  schedule(): void;
  stop(): void;
}

/**
 * The daemon's one wake-up timer: it sleeps until the next deadline of any session (rounded up:
 * waking a little early would only re-arm; nothing rings before its instant), then ticks.
 */
export function createWakeups(deps: {
  clock: Clock;
  timers: Timers;
  next: () => Micros | null;
  tick: () => void;
}): Wakeups {
  let handle: unknown = null;
  let stopped = false;
  const clear = (): void => {
    if (handle !== null) deps.timers.clearTimeout(handle);
    handle = null;
  };
  return {
    schedule() {
      clear();
      if (stopped) return;
      const next = deps.next();
      if (next === null) return;
      const ms = Math.min(MAX_SLEEP_MS, Math.max(0, Math.ceil((next - deps.clock.now()) / 1000)));
      handle = deps.timers.setTimeout(() => {
        handle = null;
        deps.tick();
      }, ms);
    },
    stop() {
      stopped = true;
      clear();
    },
  };
}
