import { createBackoff } from '../../core/backoff';
import type { Logger } from '../../core/logger';
import type { StatusHub } from '../../core/statusHub';
import { describeLoss, wrapOperationError, type TransportErrors } from './amqpErrors';
import { closeConnection, destroyConnection } from './closeConnection';
import { openLiveConnection, type Live } from './liveConnection';
import type { NormalizedAmqpOptions } from './options';
import type { Publisher } from './publisher';
import type { StreamSubscriptions } from './subscriptions';

type Phase = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

/** Spread of reconnect delays, so clients cut off together do not come back in step. */
const RECONNECT_JITTER = 0.2;

export interface LifecycleDeps {
  readonly opts: NormalizedAmqpOptions;
  readonly log: Logger;
  readonly status: StatusHub;
  readonly errors: TransportErrors;
  /** Longest wait for a close-ok. */
  readonly closeTimeoutMs: number;
  /** Re-sends its unconfirmed lines once online again; rejects them on close. */
  readonly publisher: Publisher;
  /** Detached when the connection is lost, attached again before going online, abandoned on close. */
  readonly subscriptions: StreamSubscriptions;
}

/**
 * The connection's lifecycle, the part of the AMQP transport that ties the others together:
 * the first connect, the loss of a connection (every `error`/`close` funnels into `onLost`),
 * reconnecting with capped exponential backoff (subscriptions resume before the publisher
 * re-sends what was not confirmed, and only then is the transport online again), and closing.
 */
export interface Lifecycle {
  /** `Transport.connect`: the first connect, or waits for the next attempt while reconnecting. */
  connect(): Promise<void>;
  /** `Transport.close`: once; later calls get the same promise. */
  close(): Promise<void>;
  /** True once closed (re-read after an await: TypeScript keeps the narrowing from before it). */
  isClosed(): boolean;
  /** The connection, when online (null otherwise). */
  online(): Live | null;
  /** The current connection, online or still being set up (null when there is none). */
  current(): Live | null;
  /**
   * The funnel of every `error`/`close`: marks the connection lost, once. `dead`: the link itself
   * stopped answering, so the socket is dropped at once instead of closed politely.
   */
  onLost(l: Live, err: Error, dead?: boolean): void;
}

export function createLifecycle(deps: LifecycleDeps): Lifecycle {
  const { opts, log, status, errors, closeTimeoutMs, publisher, subscriptions } = deps;
  const { topology, endpoint } = opts;
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

  const isClosed = (): boolean => phase === 'closed';

  function onLost(l: Live, err: Error, dead = false): void {
    if (dead) destroyConnection(l.conn);
    if (l.lost) return;
    l.lost = true;
    if (live !== l || phase !== 'online') return; // while (re)connecting, the awaiting code fails
    live = null;
    log.warn({ err }, 'connection lost');
    subscriptions.detachAll();
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
      closedError: () => errors.closed('connect'),
    }).catch((err: unknown) => {
      live = null;
      throw err;
    });

  async function reconnect(): Promise<void> {
    if (phase !== 'reconnecting') return;
    status.emit({ kind: 'connecting' });
    try {
      const l = await openLive();
      await subscriptions.attachAll(l.conn, (err) => onLost(l, err));
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
    subscriptions.detachAll();
    if (l !== null) {
      l.lost = true;
      void closeConnection(l.conn, closeTimeoutMs);
    }
  }

  async function connectFirst(): Promise<void> {
    try {
      await openLive();
      if (phase !== 'connecting') throw errors.closed('connect');
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

  async function closeOnce(): Promise<void> {
    phase = 'closed';
    if (reconnectTimer !== null) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    // Closing the connection closes its channels: one bounded handshake, not one per channel.
    subscriptions.abandonAll();
    const l = live;
    live = null;
    publisher.rejectAll(() => errors.closed('publish'));
    if (l !== null) {
      l.lost = true;
      await closeConnection(l.conn, closeTimeoutMs);
    }
    settleWaiting(errors.closed('connect'));
    log.info({}, 'closed');
    status.emit({ kind: 'closed' });
  }

  return {
    connect(): Promise<void> {
      if (phase === 'closed') return Promise.reject(errors.closed('connect'));
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
    close(): Promise<void> {
      closing ??= closeOnce();
      return closing;
    },
    isClosed,
    online: () => (phase === 'online' ? live : null),
    current: () => live,
    onLost,
  };
}
