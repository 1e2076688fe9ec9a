import { createBackoff, type BackoffPolicy } from '../core/backoff';

/**
 * The daemon's only access to timers, injected so unit tests drive time by hand (no sleeps):
 * `realTimers` in the program, a manual scheduler in tests.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A cancellable wait: resolves true after `ms`, or false at once if cancelled (or cancelled before). */
export interface Sleeper {
  sleep(ms: number): Promise<boolean>;
  /** Ends the pending sleep (false) and every later one: the owner is closing. */
  cancel(): void;
}

export function createSleeper(timers: Timers): Sleeper {
  let cancelled = false;
  const pending = new Set<() => void>();
  return {
    sleep(ms) {
      if (cancelled) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const handle = timers.setTimeout(() => {
          pending.delete(stop);
          resolve(true);
        }, ms);
        const stop = (): void => {
          timers.clearTimeout(handle);
          resolve(false);
        };
        pending.add(stop);
      });
    },
    cancel() {
      cancelled = true;
      for (const stop of pending) stop();
      pending.clear();
    },
  };
}

/** Retry delays (core/backoff.ts) plus a cancellable wait between attempts. */
export interface RetryTimer {
  /** The delay before the next attempt (counts one attempt). */
  next(): number;
  /** Back to the first delay after a success. */
  reset(): void;
  /** Waits `ms`; false when cancelled (the owner closes). */
  wait(ms: number): Promise<boolean>;
  cancel(): void;
}

export function createRetryTimer(
  policy: BackoffPolicy,
  timers: Timers = realTimers,
  random?: () => number,
): RetryTimer {
  const backoff = createBackoff(policy, random);
  const sleeper = createSleeper(timers);
  return {
    next: () => backoff.next(),
    reset: () => backoff.reset(),
    wait: (ms) => sleeper.sleep(ms),
    cancel: () => sleeper.cancel(),
  };
}
