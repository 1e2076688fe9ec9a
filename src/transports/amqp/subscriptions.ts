import type { ChannelModel } from 'amqplib';
import { InputError, TransportError } from '../../core/errors';
import type { SubscribeHandlers, Unsubscribe } from '../../core/transport';
import { wrapOperationError, type TransportErrors } from './amqpErrors';
import type { Live } from './liveConnection';
import { StreamSubscription, type StreamSubscriptionConfig } from './streamSubscription';

/** What a subscription needs of the connection's lifecycle (`lifecycle.ts`). */
export interface SubscriptionLink {
  isClosed(): boolean;
  /** The connection, when online. */
  online(): Live | null;
  /** The current connection, online or being set up. */
  current(): Live | null;
  onLost(l: Live, err: Error, dead?: boolean): void;
}

/**
 * The `subscribe` calls of one AMQP transport, alive across reconnects (each a
 * `StreamSubscription`, which resumes by offset): opened on the live connection, detached when
 * it is lost, attached again to every new connection, abandoned when the transport closes.
 */
export interface StreamSubscriptions {
  /** `Transport.subscribe` on `link`'s connection: from a stream offset (`null`: the start). */
  subscribe(link: SubscriptionLink, from: string | null, handlers: SubscribeHandlers): Promise<Unsubscribe>;
  /** Resumes every subscription on a new connection, one after the other. */
  attachAll(conn: ChannelModel, onLost: (err: Error) => void): Promise<void>;
  /** Every subscription forgets its channel (its connection is dead). */
  detachAll(): void;
  /** Stops every subscription without closing its channel (the connection closes with them). */
  abandonAll(): void;
}

/** A `subscribe` position: a stream offset, or null for the start. */
export function parsePosition(from: string | null): number | null {
  if (from === null) return null;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(from) || !Number.isSafeInteger(Number(from))) {
    throw new InputError('FK_INPUT_INVALID', `amqp position '${from}' is not a stream offset`);
  }
  return Number(from);
}

export function createStreamSubscriptions(
  config: StreamSubscriptionConfig,
  errors: TransportErrors,
  endpoint: string,
): StreamSubscriptions {
  const subscriptions = new Set<StreamSubscription>();
  return {
    async subscribe(link, from, handlers) {
      if (link.isClosed()) throw errors.closed('subscribe');
      const start = parsePosition(from);
      const l = link.online();
      if (l === null) throw errors.offline('subscribe');
      const sub = new StreamSubscription(config, start, handlers);
      subscriptions.add(sub);
      try {
        await sub.attach(l.conn, (err) => link.onLost(l, err));
      } catch (err) {
        subscriptions.delete(sub);
        // Unanswered on the way (a probe's close) or now: the link is dead, drop it at once.
        const dead = err instanceof TransportError && err.code === 'FK_TRANSPORT_UNAVAILABLE';
        if (dead) sub.abandon();
        const cause = err instanceof Error ? err : new Error(String(err));
        if ((dead || !(await sub.stop())) && !l.lost) link.onLost(l, cause, true);
        throw link.isClosed() ? errors.closed('subscribe') : wrapOperationError(err, 'consume', config.queue, endpoint);
      }
      return async () => {
        if (!subscriptions.delete(sub)) return;
        const attachedTo = link.current();
        // A close-ok that never comes means the link is dead: drop it (reconnecting if still open).
        if (!(await sub.stop()) && attachedTo !== null && !attachedTo.lost) {
          link.onLost(attachedTo, new Error(`closing a channel of ${endpoint} got no answer`), true);
        }
      };
    },
    async attachAll(conn, onLost) {
      // A subscription added while an earlier one attaches is attached too (a Set's iteration is live).
      for (const s of subscriptions) await s.attach(conn, onLost);
    },
    detachAll() {
      for (const s of subscriptions) s.detach();
    },
    abandonAll() {
      for (const s of subscriptions) s.abandon();
      subscriptions.clear();
    },
  };
}
