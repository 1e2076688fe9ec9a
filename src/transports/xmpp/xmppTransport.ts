import type { Element } from '@xmpp/client';
import { TransportError } from '../../core/errors';
import type { PublishMeta, Transport, TransportStatus } from '../../core/transport';
import { normalizeXmppOptions } from './options';
import type { XmppTransportOptions } from './options';
import { assertServerSupport } from './serverCheck';
import { availablePresence, enableCarbons, errorCondition, ownMessage, readRecord, recordMessage, stanzaIdBy } from './stanza';
import { createArchiveSubscription } from './archiveSubscription';
import type { ArchiveSubscription } from './archiveSubscription';
import { openXmppConnection } from './xmppConnection';
import type { XmppConnection } from './xmppConnection';

interface Pending {
  readonly stanza: Element;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly promise: Promise<void>;
  resent: boolean;
}

/**
 * A {@link Transport} over XMPP: the history of one user is the message archive (XEP-0313) of
 * one account. A record is a message to the account's own bare JID; `publish` resolves when the
 * server echoes it with the archive's stanza id (so it is stored); readers page the archive with
 * RSM and treat live copies (XEP-0280 carbons) only as a signal to fetch the next page, so every
 * reader sees the archive's one total order. Positions are archive ids. See docs/xmpp.md.
 *
 * Reconnection uses `@xmpp/client`'s reconnect unit with capped exponential backoff, surfaced as
 * `offline`/`connecting`/`online` statuses. While offline the transport is read-only: `publish`
 * rejects with a retryable `FK_TRANSPORT_UNAVAILABLE`. Publishes not yet confirmed when the
 * connection dropped are sent once more on the new session (readers drop the duplicate by id).
 *
 * @example
 * const transport = createXmppTransport({ service: 'xmpp://127.0.0.1:5222', domain: 'localhost',
 *   username: 'alice', password: process.env.FK_XMPP_PASSWORD ?? '', logger });
 * await transport.connect();
 * const unsubscribe = await transport.subscribe(null, { onEntry: (e) => apply(e.line) });
 * await transport.publish(line, { id: randomUUID(), seq: 42 });
 */
export function createXmppTransport(options: XmppTransportOptions): Transport {
  const opts = normalizeXmppOptions(options);
  const log = opts.logger.child({ component: 'xmpp', endpoint: opts.service, account: `${opts.username}@${opts.domain}` });
  let conn: XmppConnection | null = null;
  let state: 'new' | 'connecting' | 'online' | 'offline' | 'closed' = 'new';
  let connecting: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let epoch = 0;
  const pending = new Map<string, Pending>();
  const subs = new Set<ArchiveSubscription>();
  const statusListeners = new Set<(s: TransportStatus) => void>();
  // A function, not an inline comparison: close() may change `state` across any await.
  const isClosed = (): boolean => state === 'closed';

  const setStatus = (s: TransportStatus): void => {
    for (const l of statusListeners) {
      try {
        l(s);
      } catch (err) {
        log.error({ err }, 'status listener failed');
      }
    }
  };
  const closedError = (op: string): TransportError =>
    new TransportError('FK_TRANSPORT_CLOSED', `xmpp transport for ${opts.service} is closed (${op})`);
  const offlineError = (op: string): TransportError =>
    new TransportError('FK_TRANSPORT_UNAVAILABLE', `xmpp transport for ${opts.service} is offline (${op})`, { retryable: true });

  const settle = (id: string, err?: Error): void => {
    const p = pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(id);
    if (err) p.reject(err);
    else p.resolve();
  };

  const onStanza = (stanza: Element): void => {
    if (!conn) return;
    for (const s of subs) s.route(stanza);
    if (stanza.name !== 'message') return;
    if (stanza.attrs.type === 'error' && stanza.attrs.id !== undefined && pending.has(stanza.attrs.id)) {
      const condition = errorCondition(stanza);
      settle(stanza.attrs.id, new TransportError('FK_TRANSPORT_UNAVAILABLE', `xmpp server refused record '${stanza.attrs.id}': ${condition}`, {
        retryable: false,
        details: { id: stanza.attrs.id, condition },
      }));
      return;
    }
    const message = ownMessage(stanza, conn.ownBare);
    const record = message && readRecord(message);
    if (!message || !record) return;
    // The archive's stanza id on the echo proves the record was stored (mod_mam adds it after the
    // append succeeded); a copy without one is not a confirmation.
    if (stanzaIdBy(message, conn.ownBare) !== null) settle(record.id);
    for (const s of subs) s.wake();
  };

  const setUpSession = async (c: XmppConnection): Promise<void> => {
    // Carbons first, then presence: from then on every record reaches this resource live.
    await c.request(enableCarbons(), 'carbons enable');
    await c.send(availablePresence());
  };

  const goOnline = (resumed: boolean): void => {
    state = 'online';
    epoch++;
    setStatus({ kind: 'online' });
    log.info({ resumed }, 'connected');
    if (!resumed) {
      // A new session: the server forgot what it did not acknowledge. Send those records once more.
      for (const [id, p] of pending) {
        if (p.resent) continue;
        p.resent = true;
        log.debug({ id }, 'record re-sent');
        conn?.send(p.stanza).catch((err: unknown) => log.warn({ err, id }, 'record re-send failed'));
      }
    }
    for (const s of subs) s.resume(epoch);
  };

  const onDown = (reason: string, retryInMs: number | undefined): void => {
    if (state === 'closed') return;
    state = 'offline';
    for (const [id, p] of pending) {
      if (p.resent) settle(id, new TransportError('FK_TRANSPORT_UNAVAILABLE', `xmpp connection lost before record '${id}' was confirmed`, { retryable: true }));
    }
    setStatus(retryInMs === undefined ? { kind: 'offline', reason } : { kind: 'offline', reason, retryInMs });
  };

  const doConnect = async (): Promise<void> => {
    state = 'connecting';
    setStatus({ kind: 'connecting' });
    const c = openXmppConnection(opts, log, {
      onStanza,
      onDown,
      onReconnecting: () => {
        if (state !== 'closed') setStatus({ kind: 'connecting' });
      },
      onBack: (resumed) => {
        if (state === 'closed') return;
        const ready = resumed ? Promise.resolve() : setUpSession(c);
        ready.then(
          () => state !== 'closed' && goOnline(resumed),
          (err: unknown) => {
            log.error({ err }, 'session set-up failed');
            c.drop();
          },
        );
      },
    }, true);
    conn = c;
    try {
      await c.start();
      await assertServerSupport(c, opts.domain);
      await setUpSession(c);
    } catch (err) {
      conn = null;
      await c.stop();
      if (!isClosed()) {
        state = 'new';
        setStatus({ kind: 'offline', reason: err instanceof Error ? err.message : String(err) });
      }
      throw isClosed() ? closedError('connect') : err;
    }
    if (isClosed()) throw closedError('connect');
    goOnline(false);
  };

  return {
    async connect() {
      if (state === 'closed') throw closedError('connect');
      if (conn !== null && connecting === null) return;
      connecting ??= doConnect().finally(() => {
        connecting = null;
      });
      return connecting;
    },

    publish(line: string, meta: PublishMeta): Promise<void> {
      if (state === 'closed') return Promise.reject(closedError('publish'));
      if (opts.readOnly) {
        return Promise.reject(new TransportError('FK_READ_ONLY', `xmpp transport for ${opts.service} is read-only: nothing is written`));
      }
      if (state !== 'online' || conn === null) return Promise.reject(offlineError('publish'));
      const existing = pending.get(meta.id);
      if (existing) return existing.promise;
      let stanza: Element;
      try {
        stanza = recordMessage(conn.ownBare, line, meta);
      } catch (err) {
        return Promise.reject(err);
      }
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const timer = setTimeout(() => {
        settle(meta.id, new TransportError('FK_TRANSPORT_TIMEOUT', `xmpp server did not confirm record '${meta.id}' within ${opts.requestTimeoutMs} ms`, { retryable: true }));
      }, opts.requestTimeoutMs);
      pending.set(meta.id, { stanza, resolve, reject, timer, promise, resent: false });
      log.debug({ id: meta.id, seq: meta.seq }, 'record published');
      conn.send(stanza).catch((err: unknown) => log.warn({ err, id: meta.id }, 'record send failed'));
      return promise;
    },

    async subscribe(from, handlers) {
      if (state === 'closed') throw closedError('subscribe');
      if (state !== 'online' || conn === null) throw offlineError('subscribe');
      const sub = createArchiveSubscription(conn, opts, log, from, handlers, () => subs.delete(sub));
      subs.add(sub);
      try {
        await sub.start(epoch);
      } catch (err) {
        subs.delete(sub);
        throw err;
      }
      return async () => sub.stop();
    },

    close() {
      closing ??= (async () => {
        state = 'closed';
        for (const id of [...pending.keys()]) settle(id, closedError('publish'));
        for (const s of subs) s.stop();
        subs.clear();
        const c = conn;
        conn = null;
        await c?.stop();
        await connecting?.catch(() => undefined);
        log.info({}, 'stopped');
        setStatus({ kind: 'closed' });
      })();
      return closing;
    },

    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
  };
}
