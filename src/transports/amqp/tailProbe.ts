import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { TransportError } from '../../core/errors';
import { closeChannel } from './closeConnection';

/**
 * Learning where a stream ends, so a subscription can say "caught up" (`onCaughtUp`).
 *
 * AMQP 0-9-1 has no end-of-stream signal, and on RabbitMQ 3.10 the message count of
 * `queue.declare-ok` for a stream comes from metrics refreshed about every 5 s (it reads 0 right
 * after publishing; `rabbit_stream_queue:stat/1` → `queue_coarse_metrics`), so neither can say
 * where the stream ends. What we rely on instead, found by experiment on 3.10.8 and in
 * `rabbit_stream_queue:stream_entries/4`:
 *
 * 1. A consumer at `x-stream-offset: 'last'` starts at the first entry of the last chunk. The
 *    broker reads whole chunks while the consumer has credit, so with prefetch 1 it delivers
 *    exactly that one chunk, as one batch, and nothing more.
 * 2. Barrier: a passive `queue.declare` on the same channel right after `consume-ok`. A channel
 *    writes deliveries and method replies in order, so if any entry of the chunk arrived before
 *    the reply, the whole chunk did; the tail is its highest offset.
 * 3. Nothing before the reply means the stream is empty, or the stream's writer had not yet told
 *    the channel about committed entries (seen under heavy publishing: up to ~15 ms late in 200
 *    probes). We then wait up to `graceMs` for a first entry (up to `timeoutMs` when the stale
 *    declare-ok count already says the stream holds entries) and barrier again.
 *
 * Limits: on an empty stream `onCaughtUp` comes `graceMs` late. If the broker takes longer than
 * `graceMs` to deliver the last chunk of a stream written in the last few seconds, the tail is
 * taken as empty and `onCaughtUp` fires early; the entries are still delivered, just after it.
 * Entries published while probing may or may not count as "existing at subscribe time".
 */

/** Offset of a stream delivery (`x-stream-offset` header), or null when absent. */
export function streamOffset(msg: ConsumeMessage): number | null {
  const raw: unknown = msg.properties.headers?.['x-stream-offset'];
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
  if (typeof raw === 'bigint') return Number(raw);
  return null;
}

/** Where a stream begins and ends: offsets of its first and last entries (-1 when empty). */
export interface StreamBounds {
  readonly tail: number;
  /** Only when asked for (`withHead`); null when it could not be learnt in time. */
  readonly head: number | null;
}

/**
 * Learns the offset of the last entry of `queue` (-1 when empty) and, with `withHead`, of its
 * first (a stream whose first entry is not at offset 0 lost its beginning to retention), using a
 * short-lived channel on `conn`. Rejects with the library error when the channel or connection
 * fails, with `FK_TRANSPORT_TIMEOUT` when a stream known to be non-empty sends nothing in
 * `timeoutMs`, and with `FK_TRANSPORT_UNAVAILABLE` when the broker does not confirm closing the
 * probe's channel within `closeTimeoutMs` (the link is then suspect).
 */
export async function probeTail(
  conn: ChannelModel,
  queue: string,
  graceMs: number,
  timeoutMs: number,
  closeTimeoutMs: number,
  withHead = false,
): Promise<StreamBounds> {
  const ch = await conn.createChannel();
  let tail = -1;
  let head: number | null = null;
  let closed: Error | null = null;
  let wake: (() => void) | null = null;
  // Errors surface through the rejected RPCs below; the listener keeps the emitter from throwing.
  ch.on('error', (err: Error) => {
    closed = err;
  });
  ch.on('close', () => {
    closed ??= new Error('probe channel closed');
    wake?.();
  });
  /** Waits up to `ms` until `cond` holds (re-checked on every delivery) or the channel closes. */
  const waitUntil = async (cond: () => boolean, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!cond() && closed === null && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  };
  const readBounds = async (): Promise<StreamBounds> => {
    await ch.prefetch(1); // per consumer: each gets exactly one chunk
    await ch.consume(
      queue,
      (msg) => {
        const offset = msg === null ? null : streamOffset(msg);
        if (offset !== null && offset > tail) tail = offset;
        wake?.();
      },
      { noAck: false, arguments: { 'x-stream-offset': 'last' } },
    );
    if (withHead) {
      await ch.consume(
        queue,
        (msg) => {
          const offset = msg === null ? null : streamOffset(msg);
          if (offset !== null && (head === null || offset < head)) head = offset;
          wake?.();
        },
        { noAck: false, arguments: { 'x-stream-offset': 'first' } },
      );
    }
    const { messageCount } = await ch.checkQueue(queue);
    if (tail < 0) {
      await waitUntil(() => tail >= 0, messageCount > 0 ? timeoutMs : graceMs);
      if (closed !== null) throw closed;
      if (tail < 0 && messageCount > 0) {
        throw new TransportError('FK_TRANSPORT_TIMEOUT', `amqp stream '${queue}' sent no entry in ${timeoutMs} ms`, {
          retryable: true,
        });
      }
      if (tail >= 0) await ch.checkQueue(queue); // barrier: the rest of the last chunk came too
    }
    // The head chunk is read as the tail chunk is: it may come a moment after the barrier.
    if (withHead && tail >= 0) await waitUntil(() => head !== null, timeoutMs);
    if (closed !== null) throw closed;
    return { tail, head: withHead && tail >= 0 ? head : null };
  };
  let result: StreamBounds;
  try {
    result = await readBounds();
  } catch (err) {
    if (closed === null) await closeChannel(ch, closeTimeoutMs);
    throw err;
  }
  if (closed === null && !(await closeChannel(ch, closeTimeoutMs))) {
    const message = `amqp stream '${queue}': closing the probe channel got no answer`;
    throw new TransportError('FK_TRANSPORT_UNAVAILABLE', message, { retryable: true });
  }
  return result;
}
