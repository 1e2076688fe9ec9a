import type { Element } from '@xmpp/client';
import { TransportError } from '../../core/errors';
import { createStatusHub } from '../../core/statusHub';
import type { PublishMeta, Transport } from '../../core/transport';
import { normalizeXmppOptions } from './options';
import type { XmppTransportOptions } from './options';
import { assertServerSupport } from './serverCheck';
import { availablePresence, enableCarbons, errorCondition, ownMessage, readRecord, stanzaIdBy } from './stanza';
import { createXmppPublisher } from './xmppPublisher';
import { createArchiveSubscription } from './archiveSubscription';
import type { ArchiveSubscription } from './archiveSubscription';
import { openXmppConnection } from './xmppConnection';
import type { XmppConnection } from './xmppConnection';

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
  const log = opts.logger.child({
    component: 'xmpp',
    endpoint: opts.service,
    account: `${opts.username}@${opts.domain}`,
  });
  let conn: XmppConnection | null = null;
  let state: 'new' | 'connecting' | 'online' | 'offline' | 'closed' = 'new';
  let connecting: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let epoch = 0;
  const publisher = createXmppPublisher(opts, log);
  const subs = new Set<ArchiveSubscription>();
  const status = createStatusHub(log);
  const setStatus = status.emit;
  // A function, not an inline comparison: close() may change `state` across any await.
  const isClosed = (): boolean => state === 'closed';

  const closedError = (op: string): TransportError =>
    new TransportError('FK_TRANSPORT_CLOSED', `xmpp transport for ${opts.service} is closed (${op})`);
  const offlineError = (op: string): TransportError =>
    new TransportError('FK_TRANSPORT_UNAVAILABLE', `xmpp transport for ${opts.service} is offline (${op})`, {
      retryable: true,
    });

  const onStanza = (stanza: Element): void => {
    if (!conn) return;
    for (const s of subs) s.route(stanza);
    if (stanza.name !== 'message') return;
    if (stanza.attrs.type === 'error' && stanza.attrs.id !== undefined && publisher.has(stanza.attrs.id)) {
      const condition = errorCondition(stanza);
      publisher.settle(
        stanza.attrs.id,
        new TransportError(
          'FK_TRANSPORT_UNAVAILABLE',
          `xmpp server refused record '${stanza.attrs.id}': ${condition}`,
          {
            retryable: false,
            details: { id: stanza.attrs.id, condition },
          },
        ),
      );
      return;
    }
    const message = ownMessage(stanza, conn.ownBare);
    const record = message && readRecord(message);
    if (!message || !record) return;
    // The archive's stanza id on the echo proves the record was stored (mod_mam adds it after the
    // append succeeded); a copy without one is not a confirmation.
    if (stanzaIdBy(message, conn.ownBare) !== null) publisher.settle(record.id);
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
    // A new session: the server forgot what it did not acknowledge. Send those records once more.
    if (!resumed && conn !== null) publisher.resendOnce(conn);
    for (const s of subs) s.resume(epoch);
  };

  const onDown = (reason: string, retryInMs: number | undefined): void => {
    if (state === 'closed') return;
    state = 'offline';
    publisher.failResent();
    setStatus(retryInMs === undefined ? { kind: 'offline', reason } : { kind: 'offline', reason, retryInMs });
  };

  const doConnect = async (): Promise<void> => {
    state = 'connecting';
    setStatus({ kind: 'connecting' });
    const c = openXmppConnection(
      opts,
      log,
      {
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
      },
      true,
    );
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
        return Promise.reject(
          new TransportError('FK_READ_ONLY', `xmpp transport for ${opts.service} is read-only: nothing is written`),
        );
      }
      if (state !== 'online' || conn === null) return Promise.reject(offlineError('publish'));
      return publisher.publish(conn, line, meta);
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
        publisher.rejectAll(() => closedError('publish'));
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

    onStatus: status.onStatus,
  };
}
