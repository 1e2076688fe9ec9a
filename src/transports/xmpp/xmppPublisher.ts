import type { Element } from '@xmpp/client';
import { TransportError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { PendingPublishes } from '../../core/pendingPublishes';
import type { PublishMeta } from '../../core/transport';
import type { NormalizedXmppOptions } from './options';
import { recordMessage } from './stanza';
import type { XmppConnection } from './xmppConnection';

/** How often unconfirmed records are checked against `requestTimeoutMs`. */
const SWEEP_INTERVAL_MS = 1000;

/** What is kept with each unconfirmed record: its stanza, and whether it was sent a second time. */
interface Sent {
  readonly stanza: Element;
  resent: boolean;
}

/**
 * The publishing half of the XMPP transport (docs/xmpp.md, "Prosody quirk 2"): a record is a
 * message to self, confirmed by the server's echo carrying the archive's stanza id. Unconfirmed
 * records are kept by id: a new session (not a resume) sends each once more; one still
 * unconfirmed after that and another drop fails (retryable); each times out after
 * `requestTimeoutMs` (one sweeping timer, running only while something waits).
 */
export interface XmppPublisher {
  publish(conn: XmppConnection, line: string, meta: PublishMeta): Promise<void>;
  /** True while a record with this id waits for its echo. */
  has(id: string): boolean;
  /** The echo came (stored), or the server refused it (`err`). */
  settle(id: string, err?: Error): void;
  /** A new session: the server forgot what it did not acknowledge. */
  resendOnce(conn: XmppConnection): void;
  /** The connection dropped: records already sent twice fail now. */
  failResent(): void;
  rejectAll(err: () => Error): void;
}

export function createXmppPublisher(opts: NormalizedXmppOptions, log: Logger): XmppPublisher {
  let sweep: NodeJS.Timeout | null = null;
  const pending: PendingPublishes<Sent> = new PendingPublishes<Sent>({
    onBusy: () => {
      sweep = setInterval(() => pending.expire(opts.requestTimeoutMs, timedOut), SWEEP_INTERVAL_MS);
    },
    onIdle: () => {
      if (sweep !== null) clearInterval(sweep);
      sweep = null;
    },
  });
  const timedOut = (p: { meta: PublishMeta }): Error =>
    new TransportError(
      'FK_TRANSPORT_TIMEOUT',
      `xmpp server did not confirm record '${p.meta.id}' within ${opts.requestTimeoutMs} ms`,
      { retryable: true },
    );

  return {
    publish(conn, line, meta) {
      const existing = pending.get(meta.id);
      if (existing) return existing.promise;
      let stanza: Element;
      try {
        stanza = recordMessage(conn.ownBare, line, meta);
      } catch (err) {
        return Promise.reject(err);
      }
      const p = pending.add(line, meta, { stanza, resent: false });
      log.debug({ id: meta.id, seq: meta.seq }, 'record published');
      conn.send(stanza).catch((err: unknown) => log.warn({ err, id: meta.id }, 'record send failed'));
      return p.promise;
    },
    has: (id) => pending.get(id) !== undefined,
    settle(id, err) {
      const p = pending.get(id);
      if (p) pending.settle(p, err);
    },
    resendOnce(conn) {
      for (const p of pending.values()) {
        if (p.extra.resent) continue;
        p.extra.resent = true;
        log.debug({ id: p.meta.id }, 'record re-sent');
        conn.send(p.extra.stanza).catch((err: unknown) => log.warn({ err, id: p.meta.id }, 'record re-send failed'));
      }
    },
    failResent() {
      for (const p of pending.values()) {
        if (!p.extra.resent) continue;
        const message = `xmpp connection lost before record '${p.meta.id}' was confirmed`;
        pending.settle(p, new TransportError('FK_TRANSPORT_UNAVAILABLE', message, { retryable: true }));
      }
    },
    rejectAll(err) {
      pending.rejectAll(err);
    },
  };
}
