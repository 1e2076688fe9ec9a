import { backoffDelay } from '../core/backoff';
import type { Logger } from '../core/logger';
import type { Outbox } from './outbox';
import type { Target } from './targets';
import { realTimers, type Timers } from './timers';

/** Counters of one target since the daemon started. */
export interface DeliveryStats {
  delivered: number;
  /** Failed attempts (each retry counts). */
  failed: number;
  /** Events given up after `retry.maxAttempts`. */
  dropped: number;
  lastError: string | null;
}

export interface DeliveryLoop {
  readonly target: Target;
  readonly stats: DeliveryStats;
  /** Something was added to the outbox for this target. */
  kick(): void;
  /** Resolves true once nothing is pending for the target, false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Stops after the attempt in flight (waiting for it at most `graceMs`). */
  stop(graceMs: number): Promise<void>;
}

export interface DeliveryOptions {
  /** @default realTimers */
  readonly timers?: Timers;
  /** Jitter source of the retry delays. @default Math.random */
  readonly random?: () => number;
}

/** Retry delays spread ±20 %, so daemons retrying one endpoint do not retry in step. */
const JITTER = 0.2;

/**
 * Delivers a target's pending events in outbox order, one at a time (a failing head blocks the
 * ones behind it, so a target sees events in order). A confirmed delivery is marked in the outbox
 * before the next starts. A failure is retried after a capped exponential backoff
 * (core/backoff.ts, `retry.minMs` doubling to `retry.maxMs`), for ever or up to `retry.maxAttempts`.
 */
export function startDeliveryLoop(
  target: Target,
  outbox: Outbox,
  logger: Logger,
  opts: DeliveryOptions = {},
): DeliveryLoop {
  const timers = opts.timers ?? realTimers;
  const log = logger.child({ component: 'delivery', target: target.name });
  const stats: DeliveryStats = { delivered: 0, failed: 0, dropped: 0, lastError: null };
  let stopped = false;
  let wake: (() => void) | null = null;
  let idle = false;
  const idleWaiters = new Set<() => void>();

  const sleep = (ms: number | null): Promise<void> =>
    new Promise((resolve) => {
      const handle = ms === null ? null : timers.setTimeout(() => wake?.(), ms);
      wake = () => {
        wake = null;
        if (handle !== null) timers.clearTimeout(handle);
        resolve();
      };
    });

  const notifyIdle = (): void => {
    if (outbox.depth(target.name) > 0) return;
    for (const w of idleWaiters) w();
    idleWaiters.clear();
  };

  async function run(): Promise<void> {
    let attempts = 0;
    while (!stopped) {
      const entry = outbox.next(target.name);
      if (entry === undefined) {
        notifyIdle();
        idle = true;
        await sleep(null);
        idle = false;
        continue;
      }
      try {
        await target.deliver(entry.event, JSON.stringify(entry.event));
        outbox.markDone(entry.id, target.name);
        stats.delivered++;
        attempts = 0;
        log.debug({ id: entry.id, type: entry.event.type }, 'event delivered');
      } catch (err) {
        stats.failed++;
        attempts++;
        stats.lastError = err instanceof Error ? err.message : String(err);
        const { minMs, maxMs, maxAttempts } = target.retry;
        if (maxAttempts > 0 && attempts >= maxAttempts) {
          log.error({ err, id: entry.id, attempts }, 'delivery given up');
          outbox.markDropped(entry.id, target.name);
          stats.dropped++;
          attempts = 0;
          continue;
        }
        const delayMs = backoffDelay(attempts, { minMs, maxMs, jitter: JITTER }, opts.random);
        log.warn({ err, id: entry.id, attempt: attempts, delayMs }, 'delivery failed, retry scheduled');
        if (!stopped) await sleep(delayMs);
      }
    }
  }

  const done = run().catch((err: unknown) => log.fatal({ err }, 'delivery loop crashed'));

  return {
    target,
    stats,
    // Wakes an idle loop only: a loop backing off keeps its delay.
    kick: () => {
      if (idle) wake?.();
    },
    drain(timeoutMs) {
      if (outbox.depth(target.name) === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const handle = timers.setTimeout(() => {
          idleWaiters.delete(ok);
          resolve(false);
        }, timeoutMs);
        const ok = (): void => {
          timers.clearTimeout(handle);
          resolve(true);
        };
        idleWaiters.add(ok);
      });
    },
    async stop(graceMs) {
      stopped = true;
      wake?.();
      let handle: unknown = null;
      await Promise.race([done, new Promise<void>((r) => (handle = timers.setTimeout(r, graceMs)))]);
      timers.clearTimeout(handle);
    },
  };
}
