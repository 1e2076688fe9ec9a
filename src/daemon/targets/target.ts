import type { FkEvent } from '../../core/notify/notifications';
import type { RetryPolicy, TargetType } from '../options';

/**
 * One destination of notifications. `deliver` resolves only once the destination confirmed the
 * event (2xx, exit 0, publisher confirm, server pong) and rejects otherwise; retries, backoff
 * and bookkeeping belong to the delivery loop, not to targets.
 */
export interface Target {
  readonly name: string;
  readonly type: TargetType;
  /** Filter of event types (see `matchesFilter`). */
  readonly events: readonly string[];
  readonly retry: RetryPolicy;
  /** Identifies the destination across daemons sharing a dedupe directory; null = this daemon only. */
  readonly dedupeKey: string | null;
  /** `body` is `JSON.stringify(event)`: the exact bytes a webhook signs. */
  deliver(event: FkEvent, body: string): Promise<void>;
  close(): Promise<void>;
}
