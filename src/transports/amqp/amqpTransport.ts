import { createBackoff } from '../../core/backoff';
import { InputError, TransportError } from '../../core/errors';
import { silentLogger, type Logger } from '../../core/logger';
import { createStatusHub } from '../../core/statusHub';
import type { PublishMeta, SubscribeHandlers, Transport, Unsubscribe } from '../../core/transport';
import { describeLoss, wrapOperationError } from './amqpErrors';
import { closeConnection, destroyConnection } from './closeConnection';
import { openLiveConnection, type Live } from './liveConnection';
import { MAX_ID_LENGTH, normalizeAmqpOptions, type AmqpTransportOptions, type NormalizedAmqpOptions } from './options';
import { createPublisher } from './publisher';
import { StreamSubscription } from './streamSubscription';

type Phase = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

/** Spread of reconnect delays, so clients cut off together do not come back in step. */
const RECONNECT_JITTER = 0.2;

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
 * Named parts: `liveConnection.ts` (connect + topology), `publisher.ts` (confirms, re-publishing,
 * timeouts), `streamSubscription.ts` + `tailProbe.ts` (reading), `closeConnection.ts` (bounded
 * closing); this factory holds the lifecycle that ties them: connect, lose, reconnect, close.
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
  const status = createStatusHub(log);
  const publisher = createPublisher(opts);
  const subscriptions = new Set<StreamSubscription>();
  const backoff = createBackoff({ minMs: opts.retryLow, maxMs: opts.retryHigh, jitter: RECONNECT_JITTER });
  let phase: Phase = 'idle';
  let live: Live | null = null;
  let connecting: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  /** `connect()` calls made while reconnecting: settled by the next attempt (never left waiting). */
  let waiting: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  const settleWaiting = (err?: unknown): void => {
    const w = waiting;
    waiting = [];
    for (const { resolve, reject } of w) {
      if (err === undefined) resolve();
      else reject(err);
    }
  };

  /** Re-reads `phase` after an await (TypeScript keeps the narrowing from before it). */
  const isClosed = (): boolean => phase === 'closed';
  const closedError = (op: string): TransportError =>
    new TransportError('FK_TRANSPORT_CLOSED', `amqp transport for history '${opts.history}' is closed (${op})`);
  const offlineError = (op: string): TransportError =>
    new TransportError(
      'FK_TRANSPORT_UNAVAILABLE',
      `amqp transport for history '${opts.history}' at ${endpoint} is not connected (${op})`,
      { retryable: true },
    );

  /**
   * The funnel of every `error`/`close`: marks the connection lost, once. `dead`: the link itself
   * stopped answering, so the socket is dropped at once instead of closed politely.
   */
  function onLost(l: Live, err: Error, dead = false): void {
    if (dead) destroyConnection(l.conn);
    if (l.lost) return;
    l.lost = true;
    if (live !== l || phase !== 'online') return; // while (re)connecting, the awaiting code fails
    live = null;
    log.warn({ err }, 'connection lost');
    for (const s of subscriptions) s.detach();
    if (!dead) void closeConnection(l.conn, closeTimeoutMs); // only a channel may have died
    phase = 'reconnecting';
    scheduleReconnect(err);
  }

  /** Idempotent: at most one reconnect timer exists. */
  function scheduleReconnect(err: unknown): void {
    if (phase === 'closed' || reconnectTimer !== null) return;
    const delayMs = backoff.next();
    log.warn({ err, attempt: backoff.attempt, delayMs }, 'reconnect scheduled');
    status.emit({ kind: 'offline', reason: describeLoss(err), retryInMs: delayMs });
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void reconnect();
    }, delayMs);
  }

  /** Connects and sets the topology up; the connection is `live` as soon as it exists. */
  const openLive = (): Promise<Live> =>
    openLiveConnection(opts, log, closeTimeoutMs, {
      onLost,
      onOpened: (l) => (live = l),
      isClosed,
      closedError: () => closedError('connect'),
    }).catch((err: unknown) => {
      live = null;
      throw err;
    });

  async function reconnect(): Promise<void> {
    if (phase !== 'reconnecting') return;
    status.emit({ kind: 'connecting' });
    try {
      const l = await openLive();
      for (const s of subscriptions) await s.attach(l.conn, (err) => onLost(l, err));
      if (l.lost) throw new Error('connection lost while resuming');
      if (phase !== 'reconnecting') return; // closed meanwhile
      phase = 'online';
      backoff.reset();
      log.info({ republished: publisher.size }, 'reconnected');
      publisher.resend(l);
      status.emit({ kind: 'online' });
      settleWaiting();
    } catch (err) {
      if (phase !== 'reconnecting') return;
      dropLive();
      scheduleReconnect(err);
      settleWaiting(wrapOperationError(err, 'reconnect to', topology.queue, endpoint));
    }
  }

  function dropLive(): void {
    const l = live;
    live = null;
    for (const s of subscriptions) s.detach();
    if (l !== null) {
      l.lost = true;
      void closeConnection(l.conn, closeTimeoutMs);
    }
  }

  function parsePosition(from: string | null): number | null {
    if (from === null) return null;
    if (!/^(0|[1-9][0-9]{0,15})$/.test(from) || !Number.isSafeInteger(Number(from))) {
      throw new InputError('FK_INPUT_INVALID', `amqp position '${from}' is not a stream offset`);
    }
    return Number(from);
  }

  async function connectFirst(): Promise<void> {
    try {
      await openLive();
      if (phase !== 'connecting') throw closedError('connect');
      phase = 'online';
      log.info({}, 'connected');
      status.emit({ kind: 'online' });
    } catch (err) {
      if (phase === 'connecting') {
        phase = 'idle';
        dropLive(); // not logged: the caller gets the error (STYLE §6, no catch-log-rethrow)
        status.emit({ kind: 'offline', reason: describeLoss(err) });
      }
      throw err;
    } finally {
      connecting = null;
    }
  }

  async function subscribe(from: string | null, handlers: SubscribeHandlers): Promise<Unsubscribe> {
    if (phase === 'closed') throw closedError('subscribe');
    const start = parsePosition(from);
    const l = live;
    if (phase !== 'online' || l === null) throw offlineError('subscribe');
    const sub = new StreamSubscription(
      {
        queue: topology.queue,
        prefetch: opts.prefetch,
        caughtUpGraceMs: opts.caughtUpGraceMs,
        probeTimeoutMs: opts.connectTimeoutMs,
        dedupeWindow: opts.dedupeWindow,
        closeTimeoutMs,
        log,
      },
      start,
      handlers,
    );
    subscriptions.add(sub);
    try {
      await sub.attach(l.conn, (err) => onLost(l, err));
    } catch (err) {
      subscriptions.delete(sub);
      // Unanswered on the way (a probe's close) or now: the link is dead, drop it at once.
      const dead = err instanceof TransportError && err.code === 'FK_TRANSPORT_UNAVAILABLE';
      if (dead) sub.abandon();
      const cause = err instanceof Error ? err : new Error(String(err));
      if ((dead || !(await sub.stop())) && !l.lost) onLost(l, cause, true);
      throw isClosed() ? closedError('subscribe') : wrapOperationError(err, 'consume', topology.queue, endpoint);
    }
    return async () => {
      if (!subscriptions.delete(sub)) return;
      const attachedTo = live;
      // A close-ok that never comes means the link is dead: drop it (reconnecting if still open).
      if (!(await sub.stop()) && attachedTo !== null && !attachedTo.lost) {
        onLost(attachedTo, new Error(`closing a channel of ${endpoint} got no answer`), true);
      }
    };
  }

  async function close(): Promise<void> {
    phase = 'closed';
    if (reconnectTimer !== null) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    // Closing the connection closes its channels: one bounded handshake, not one per channel.
    for (const s of subscriptions) s.abandon();
    subscriptions.clear();
    const l = live;
    live = null;
    publisher.rejectAll(() => closedError('publish'));
    if (l !== null) {
      l.lost = true;
      await closeConnection(l.conn, closeTimeoutMs);
    }
    settleWaiting(closedError('connect'));
    log.info({}, 'closed');
    status.emit({ kind: 'closed' });
  }

  return {
    connect(): Promise<void> {
      if (phase === 'closed') return Promise.reject(closedError('connect'));
      if (phase === 'online') return Promise.resolve();
      if (connecting !== null) return connecting;
      // Reconnecting (the link dropped after a first connect): wait for the next attempt, which
      // settles this either way; before issue 11 this rejected at once, and a command whose link
      // dropped once while it started failed with "connect while reconnecting".
      if (phase === 'reconnecting') return new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
      phase = 'connecting';
      status.emit({ kind: 'connecting' });
      connecting = connectFirst();
      return connecting;
    },

    publish(line: string, meta: PublishMeta): Promise<void> {
      if (phase === 'closed') return Promise.reject(closedError('publish'));
      if (opts.readOnly) {
        const message = `amqp transport for history '${opts.history}' is read-only: nothing is written`;
        return Promise.reject(new TransportError('FK_READ_ONLY', message));
      }
      const l = live;
      if (phase !== 'online' || l === null) return Promise.reject(offlineError('publish'));
      if (typeof meta.id !== 'string' || meta.id === '' || Buffer.byteLength(meta.id) > MAX_ID_LENGTH) {
        return Promise.reject(
          new InputError('FK_INPUT_INVALID', `publish id must be 1-${MAX_ID_LENGTH} bytes, got '${String(meta.id)}'`),
        );
      }
      return publisher.publish(l, line, meta);
    },

    subscribe,

    close(): Promise<void> {
      closing ??= close();
      return closing;
    },

    onStatus: status.onStatus,
  };
}
