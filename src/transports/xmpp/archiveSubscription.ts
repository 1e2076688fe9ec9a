import type { Element } from '@xmpp/client';
import { FkError, TransportError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { SubscribeHandlers, TransportEntry } from '../../core/transport';
import { createRowMerger } from './archiveRows';
import { MAX_DEDUPE_WINDOW } from './options';
import type { NormalizedXmppOptions } from './options';
import { isLastPage, mamQuery, mamResultQueryId, parseMamResult } from './stanza';
import type { ArchiveRow } from './stanza';
import type { XmppConnection } from './xmppConnection';

/**
 * One reader of the archive. Every entry, replayed or live, comes from paging the archive after
 * the last row read (RSM `<after/>`), so every reader sees the archive's order, whatever order
 * live copies arrive in. A live copy only `wake()`s the reader; wake-ups during a fetch coalesce
 * into one more page request. After a reconnect, `resume()` re-pages from the same cursor.
 */
export interface ArchiveSubscription {
  /** Reads the first page; rejects (and stops) when the archive refuses the start position. */
  start(epoch: number): Promise<void>;
  /** Offers an inbound stanza (MAM results of this reader's query). */
  route(stanza: Element): void;
  /** A new record was archived: fetch what follows the cursor. */
  wake(): void;
  /** The session is back (epoch = session number): re-page, then report caught up again. */
  resume(epoch: number): void;
  stop(): void;
}

let queryCounter = 0;

export function createArchiveSubscription(
  conn: XmppConnection,
  opts: NormalizedXmppOptions,
  log: Logger,
  from: string | null,
  handlers: SubscribeHandlers,
  onStop: () => void,
): ArchiveSubscription {
  let cursor = from;
  const merger = createRowMerger(MAX_DEDUPE_WINDOW);
  let active = true;
  let running = false;
  let dirty = false;
  let epoch = 0;
  let caughtUpEpoch = -1;
  let query: { id: string; rows: ArchiveRow[] } | null = null;
  let retryTimer: NodeJS.Timeout | undefined;

  const deliver = (entries: TransportEntry[]): void => {
    for (const entry of entries) {
      if (!active) return;
      try {
        handlers.onEntry(entry);
      } catch (err) {
        // STYLE §4: one failing entry is logged and the reader keeps going.
        log.error({ err, position: entry.position, id: entry.id }, 'entry handler failed');
      }
    }
  };

  const fetchPage = async (): Promise<{ rows: ArchiveRow[]; last: boolean }> => {
    const q = { id: `fkq${++queryCounter}`, rows: [] as ArchiveRow[] };
    query = q;
    try {
      const fin = await conn.request(mamQuery(q.id, conn.ownBare, cursor, opts.pageSize), 'archive query');
      return { rows: q.rows, last: isLastPage(fin, q.rows.length) };
    } finally {
      if (query === q) query = null;
    }
  };

  const startError = (err: unknown): FkError => {
    const condition = err instanceof Error && err.name === 'StanzaError' ? err.message : null;
    if (condition === 'item-not-found') {
      return new TransportError(
        'FK_TRANSPORT_UNAVAILABLE',
        `xmpp archive of '${conn.ownBare}' has no position '${String(from)}'`,
        {
          cause: err,
          retryable: false,
          details: { position: from },
        },
      );
    }
    if (err instanceof FkError) return err;
    return new TransportError(
      'FK_TRANSPORT_UNAVAILABLE',
      `xmpp archive query for '${conn.ownBare}' failed: ${condition ?? String(err)}`,
      {
        cause: err,
        retryable: condition === null,
      },
    );
  };

  const pump = async (first?: { resolve: () => void; reject: (err: Error) => void }): Promise<void> => {
    if (running) {
      dirty = true;
      return;
    }
    running = true;
    try {
      do {
        dirty = false;
        let last = false;
        while (active && !last) {
          const page = await fetchPage();
          if (first) {
            first.resolve();
            first = undefined;
            // Let subscribe() return its unsubscribe function before the first entry arrives.
            await new Promise<void>((r) => setImmediate(r));
          }
          for (const row of page.rows) {
            if (!active) return;
            deliver(merger.push(row));
            cursor = row.archiveId;
          }
          last = page.last;
        }
        if (!active) return;
        deliver(merger.flush());
        if (active && caughtUpEpoch !== epoch) {
          caughtUpEpoch = epoch;
          log.debug({ position: cursor }, 'caught up');
          try {
            handlers.onCaughtUp?.();
          } catch (err) {
            log.error({ err }, 'caught-up handler failed');
          }
        }
      } while (dirty && active);
    } catch (err) {
      if (first) {
        first.reject(startError(err));
        return;
      }
      if (
        err instanceof TransportError &&
        (err.code === 'FK_TRANSPORT_CLOSED' || err.code === 'FK_TRANSPORT_UNAVAILABLE')
      ) {
        // The connection went away: resume() re-pages from the cursor once it is back.
        log.debug({ err, position: cursor }, 'archive paging interrupted');
      } else if (active) {
        log.error({ err, position: cursor }, 'archive page failed');
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => void pump(), opts.retryLowMs);
      }
    } finally {
      running = false;
    }
  };

  const stop = (): void => {
    if (!active) return;
    active = false;
    clearTimeout(retryTimer);
    query = null;
    onStop();
  };

  return {
    async start(e) {
      epoch = e;
      log.info({ from }, 'subscribed');
      await new Promise<void>((resolve, reject) => {
        void pump({ resolve, reject });
      }).catch((err: unknown) => {
        stop();
        throw err;
      });
    },
    route(stanza) {
      if (query === null || stanza.name !== 'message') return;
      if (mamResultQueryId(stanza) !== query.id) return;
      const row = parseMamResult(stanza, query.id);
      if (row) query.rows.push(row);
    },
    wake() {
      if (active) void pump();
    },
    resume(e) {
      epoch = e;
      if (active) void pump();
    },
    stop,
  };
}
