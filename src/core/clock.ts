/** Time in core is integer microseconds since the Unix epoch (Flowkeeper keeps microseconds). */
export type Micros = number;

/** The only source of "now" (STYLE §3: no Date.now() in core outside this file). */
export interface Clock {
  now(): Micros;
}

export const systemClock: Clock = {
  now: () => Date.now() * 1000,
};

/** A clock that always says `t`; tests and `fk state --now` use it. */
export function fixedClock(t: Micros): Clock {
  return { now: () => t };
}

/** A clock tests can move forward by hand. */
export function manualClock(start: Micros): Clock & { set(t: Micros): void; advance(us: Micros): void } {
  let t = start;
  return {
    now: () => t,
    set: (v) => {
      t = v;
    },
    advance: (us) => {
      t += us;
    },
  };
}
