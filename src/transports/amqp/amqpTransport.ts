import { silentLogger, type Logger } from '../../core/logger';
import { createStatusHub } from '../../core/statusHub';
import type { PublishMeta, Transport } from '../../core/transport';
import { transportErrors } from './amqpErrors';
import { createLifecycle } from './lifecycle';
import { normalizeAmqpOptions, type AmqpTransportOptions, type NormalizedAmqpOptions } from './options';
import { createPublisher, publishIdError } from './publisher';
import { createStreamSubscriptions } from './subscriptions';

/** Longest wait for the broker's close-ok before the socket is destroyed. */
const MAX_CLOSE_WAIT_MS = 5000;

/**
 * The RabbitMQ transport: one user's history is one durable stream queue (see `topology.ts`).
 *
 * - `publish` uses a confirm channel and resolves on the broker's confirm. Offline, it rejects at
 *   once (`FK_TRANSPORT_UNAVAILABLE`, retryable: the client is read-only while offline); lines
 *   already sent but unconfirmed when the connection drops are sent again after the reconnect,
 *   with the same id, and resolve then (readers drop the possible duplicate by id).
 * - `subscribe` reads the stream from an offset, reports `onCaughtUp` once what existed has been
 *   delivered (`tailProbe.ts`), and resumes after the last delivered entry after a reconnect.
 * - Reconnecting is this transport's job (amqplib does not): `error` and `close` of the connection
 *   and of every channel lead to one `scheduleReconnect()` with capped exponential backoff, and
 *   every connect redeclares the topology before consuming. Status: `connecting`, `online`,
 *   `offline` (with `retryInMs` while retrying), `closed`. A failed first `connect()` rejects and
 *   does not retry on its own.
 *
 * A composition of named parts: `lifecycle.ts` (connect, lose, reconnect with backoff, close: what
 * ties the others), `liveConnection.ts` (one connection + topology), `publisher.ts` (confirms,
 * re-publishing, timeouts), `subscriptions.ts` over `streamSubscription.ts` + `tailProbe.ts`
 * (reading, resumed by offset), `closeConnection.ts` (bounded closing), `amqpErrors.ts`.
 *
 * `deps.logger` (default: silent) gets one child `{ component: 'amqp', history, endpoint }`; it
 * never sees payloads or credentials. Options are validated here (`normalizeAmqpOptions`), so a
 * bad option throws `InputError FK_CONFIG_INVALID` synchronously.
 *
 * @example
 * const transport = createAmqpTransport({ url: 'amqp://alice:secret@localhost:5672/', history: 'alice' }, { logger });
 * await transport.connect();
 * const unsubscribe = await transport.subscribe(null, { onEntry: (e) => lines.push(e.line), onCaughtUp: ready });
 * await transport.publish(encryptedLine, { id: record.id, seq: record.seq });
 */
export function createAmqpTransport(options: AmqpTransportOptions, deps: { logger?: Logger } = {}): Transport {
  const opts: NormalizedAmqpOptions = normalizeAmqpOptions(options);
  const { topology, endpoint } = opts;
  const context = { component: 'amqp', transport: 'amqp', history: opts.history, endpoint };
  const log = (deps.logger ?? silentLogger).child(context);
  const closeTimeoutMs = Math.min(opts.connectTimeoutMs, MAX_CLOSE_WAIT_MS);
  const errors = transportErrors(opts.history, endpoint);
  const status = createStatusHub(log);
  const publisher = createPublisher(opts);
  const subscriptions = createStreamSubscriptions(
    {
      queue: topology.queue,
      prefetch: opts.prefetch,
      caughtUpGraceMs: opts.caughtUpGraceMs,
      probeTimeoutMs: opts.connectTimeoutMs,
      dedupeWindow: opts.dedupeWindow,
      closeTimeoutMs,
      log,
    },
    errors,
    endpoint,
  );
  const lifecycle = createLifecycle({ opts, log, status, errors, closeTimeoutMs, publisher, subscriptions });

  return {
    connect: () => lifecycle.connect(),

    publish(line: string, meta: PublishMeta): Promise<void> {
      if (lifecycle.isClosed()) return Promise.reject(errors.closed('publish'));
      if (opts.readOnly) return Promise.reject(errors.readOnly());
      const l = lifecycle.online();
      if (l === null) return Promise.reject(errors.offline('publish'));
      const badId = publishIdError(meta);
      if (badId !== null) return Promise.reject(badId);
      return publisher.publish(l, line, meta);
    },

    subscribe: (from, handlers) => subscriptions.subscribe(lifecycle, from, handlers),

    close: () => lifecycle.close(),

    onStatus: status.onStatus,
  };
}
