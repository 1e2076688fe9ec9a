import type { Timers } from '../../src/daemon/timers';

/** Lets pending promise callbacks and I/O callbacks run (no time passes). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export interface ManualTimers extends Timers {
  /** Virtual milliseconds since creation. */
  readonly now: number;
  /** Delays of the timers armed and not yet fired or cleared, in arming order. */
  pending(): number[];
  /** Moves virtual time forward, firing every timer that falls due, in order, settling after each. */
  advance(ms: number): Promise<void>;
}

/**
 * Timers driven by hand, for unit tests of the daemon's loops (no sleeps): `advance(ms)` fires
 * what falls due. Pair with `manualClock` when the code also reads the wall clock.
 */
export function manualTimers(): ManualTimers {
  let now = 0;
  let nextId = 1;
  const armed = new Map<number, { at: number; delay: number; fn: () => void }>();
  return {
    get now() {
      return now;
    },
    setTimeout(fn, ms) {
      const id = nextId++;
      armed.set(id, { at: now + Math.max(0, ms), delay: ms, fn });
      return id;
    },
    clearTimeout(handle) {
      armed.delete(handle as number);
    },
    pending: () => [...armed.values()].map((t) => t.delay),
    async advance(ms) {
      const until = now + ms;
      await settle();
      for (;;) {
        const due = [...armed.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        armed.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settle();
      }
      now = until;
    },
  };
}
