/**
 * Capped exponential backoff: the one rule behind every retry delay in fk (reconnecting
 * transports, the daemon's deliveries and session watcher, the client's lost races).
 *
 * Pure: it computes delays and keeps no timers; the caller waits. Randomness is injectable so
 * tests pin it.
 *
 * @example
 * const backoff = createBackoff({ minMs: 1000, maxMs: 30_000, jitter: 0.2 });
 * setTimeout(reconnect, backoff.next()); // 1 s ±20 %, then 2 s, 4 s … up to 30 s
 * backoff.reset();                        // after a success
 */
export interface BackoffPolicy {
  /** Delay before the first retry, in ms (≥ 0). */
  readonly minMs: number;
  /** Upper bound of every delay, jitter included, in ms (≥ minMs). */
  readonly maxMs: number;
  /**
   * Spread of each delay as a fraction of it: the delay is drawn uniformly from
   * `base · [1 - jitter, 1 + jitter]` (then capped at `maxMs`), so clients retrying one endpoint
   * do not retry in step. 0 gives the exact doubling.
   * @default 0
   */
  readonly jitter?: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry): `minMs · 2^(attempt-1)`,
 * capped at `maxMs`, spread by `jitter`, rounded to whole ms. `random` returns a number in [0, 1).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const { minMs, maxMs } = policy;
  const jitter = policy.jitter ?? 0;
  const exponent = Math.min(Math.max(0, Math.floor(attempt) - 1), 52); // 2^52 ms is beyond any cap
  const base = Math.min(maxMs, minMs * 2 ** exponent);
  const spread = jitter === 0 ? base : base * (1 - jitter + 2 * jitter * random());
  return Math.round(Math.min(maxMs, Math.max(0, spread)));
}

/** A retry counter over {@link backoffDelay}. */
export interface Backoff {
  /** Retries drawn since the last `reset()`. */
  readonly attempt: number;
  /** Counts one more retry and returns the delay to wait before it. */
  next(): number;
  /** Back to the first delay (call after a success). */
  reset(): void;
}

/** Creates a {@link Backoff}; throws a `RangeError` for a policy that is not a sane range. */
export function createBackoff(policy: BackoffPolicy, random: () => number = Math.random): Backoff {
  assertBackoffPolicy(policy);
  let attempt = 0;
  return {
    get attempt() {
      return attempt;
    },
    next() {
      attempt += 1;
      return backoffDelay(attempt, policy, random);
    },
    reset() {
      attempt = 0;
    },
  };
}

/** Throws a `RangeError` naming the bad field (callers validating user options check first). */
export function assertBackoffPolicy(policy: BackoffPolicy): void {
  const { minMs, maxMs } = policy;
  const jitter = policy.jitter ?? 0;
  if (!Number.isFinite(minMs) || minMs < 0) throw new RangeError(`backoff minMs must be ≥ 0, got ${minMs}`);
  if (!Number.isFinite(maxMs) || maxMs < minMs) throw new RangeError(`backoff maxMs must be ≥ minMs, got ${maxMs}`);
  if (!Number.isFinite(jitter) || jitter < 0 || jitter > 1) {
    throw new RangeError(`backoff jitter must be in [0, 1], got ${jitter}`);
  }
}
