import { PendingPublishes, type PendingPublish } from '../../core/pendingPublishes';
import { InputError, TransportError } from '../../core/errors';
import type { PublishMeta } from '../../core/transport';
import { wrapOperationError } from './amqpErrors';
import type { Live } from './liveConnection';
import { MAX_ID_LENGTH, type NormalizedAmqpOptions } from './options';

/** How often unconfirmed publishes are checked against `publishTimeoutMs`. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * The publishing half of the AMQP transport: persistent messages to the history's own exchange
 * on the confirm channel, resolved on the broker's confirm. Unconfirmed publishes are kept (in
 * order) so that the transport can send them again after a reconnect, with the same id; each
 * times out after `publishTimeoutMs` (one sweeping timer, running only while something waits).
 */
export interface Publisher {
  readonly size: number;
  /** Registers `line` and sends it on `l`; resolves on the broker's confirm. */
  publish(l: Live, line: string, meta: PublishMeta): Promise<void>;
  /** Sends every unconfirmed line again on a new connection. */
  resend(l: Live): void;
  /** Rejects everything still waiting (on close). */
  rejectAll(err: () => Error): void;
}

/** Why `meta.id` cannot be a message id (1 to `MAX_ID_LENGTH` bytes), or null when it can. */
export function publishIdError(meta: PublishMeta): InputError | null {
  if (typeof meta.id === 'string' && meta.id !== '' && Buffer.byteLength(meta.id) <= MAX_ID_LENGTH) return null;
  return new InputError('FK_INPUT_INVALID', `publish id must be 1-${MAX_ID_LENGTH} bytes, got '${String(meta.id)}'`);
}

export function createPublisher(opts: NormalizedAmqpOptions): Publisher {
  const { topology, endpoint } = opts;
  let sweep: NodeJS.Timeout | null = null;
  const pending: PendingPublishes = new PendingPublishes({
    onBusy: () => {
      sweep = setInterval(() => pending.expire(opts.publishTimeoutMs, timedOut), SWEEP_INTERVAL_MS);
    },
    onIdle: () => {
      if (sweep !== null) clearInterval(sweep);
      sweep = null;
    },
  });
  const timedOut = (p: PendingPublish): Error =>
    new TransportError(
      'FK_TRANSPORT_TIMEOUT',
      `amqp publish to '${topology.exchange}' at ${endpoint} not confirmed within ${opts.publishTimeoutMs} ms`,
      { retryable: true, details: { id: p.meta.id, seq: p.meta.seq } },
    );

  function send(l: Live, p: PendingPublish): void {
    const pub = l.pub;
    if (pub === null || l.lost) return; // re-published after the reconnect
    try {
      pub.publish(
        topology.exchange,
        topology.routingKey,
        Buffer.from(p.line, 'utf8'),
        { persistent: true, messageId: p.meta.id, headers: { 'fk-seq': p.meta.seq }, contentType: 'text/plain' },
        (err: unknown) => onConfirm(l, p, err),
      );
    } catch {
      // The channel closed under us; onLost runs and the line is re-published after reconnect.
    }
  }

  function onConfirm(l: Live, p: PendingPublish, err: unknown): void {
    if (err === null || err === undefined) pending.settle(p);
    // A nack: the broker could not store it. The caller decides whether to retry.
    else if (!l.lost) pending.settle(p, wrapOperationError(err, 'publish to', topology.exchange, endpoint));
    // else: the connection dropped before the confirm; kept for re-publishing after reconnect.
  }

  return {
    get size() {
      return pending.size;
    },
    publish(l, line, meta) {
      const fresh = pending.get(meta.id) === undefined;
      const p = pending.add(line, meta, undefined);
      if (fresh) send(l, p);
      return p.promise;
    },
    resend(l) {
      for (const p of pending.values()) send(l, p);
    },
    rejectAll(err) {
      pending.rejectAll(err);
    },
  };
}
