import { TransportError } from '../../core/errors';
import { silentLogger, type Logger } from '../../core/logger';
import type { PublishMeta, SubscribeHandlers, Transport, TransportStatus, Unsubscribe } from '../../core/transport';
import { createFileFollower, historySize } from './fileFollower';
import { ensureHistoryFile, type CreateHistory } from './historyPath';
import { createSubscriptions } from './subscriptions';

/** Options of the plain-file backend (Flowkeeper's own data file format). */
export interface FileTransportOptions {
  /** Path of the history file: a regular file (or a link to one); see `create` when missing. */
  readonly path: string;
  /**
   * When the file is missing, connect creates it if its directory exists (`'file'`), or with its
   * directories (`'directories'`), or refuses (`false`). @default 'file'
   */
  readonly create?: CreateHistory;
  /** Appended to the error about a missing directory (e.g. the option that allows creating it). */
  readonly createHint?: string;
  /** How often to look for lines appended by another process, besides file-system events. @default 1000 */
  readonly pollMs?: number;
  /**
   * Refuse to append (FK_SEQUENCE_CONFLICT) when another process appended lines this transport
   * has not delivered yet, so the client re-checks its action against them first. Only a plain
   * log (no sequence numbers to protect) would turn this off. @default true
   */
  readonly exclusiveAppend?: boolean;
  /**
   * Watch and poll the file for lines other processes append (`false`: a subscription gets what
   * the file holds when it subscribes, then only what this transport appends). @default true
   */
  readonly follow?: boolean;
  /** How long to wait for another writer's lock before giving up. @default 5000 */
  readonly lockTimeoutMs?: number;
  readonly logger?: Logger;
}

export const DEFAULT_POLL_MS = 1000;
export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

/**
 * The file backend: one line per record, exactly the format Flowkeeper desktop writes, so the
 * desktop app and `fk` can share a data file. Earlier lines are never rewritten: `publish`
 * appends under `<file>.lock` (an OS lock that dies with its holder, see `lockFile.ts`) and only
 * if nobody appended since the caller last read ("append only if unchanged", `lockedAppend.ts`),
 * otherwise it rejects with `FK_SEQUENCE_CONFLICT` after delivering the new lines, so the client
 * re-checks and retries. Lines appended by another process (the desktop app) are noticed through
 * file-system events plus polling and delivered to subscribers (`fileFollower.ts`, over the
 * registry in `subscriptions.ts`).
 *
 * Positions are byte offsets just past each line's newline.
 */
export function createFileTransport(options: FileTransportOptions): Transport {
  const path = options.path;
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const exclusiveAppend = options.exclusiveAppend ?? true;
  const log = (options.logger ?? silentLogger).child({ component: 'file', path });
  const subs = createSubscriptions();
  const statusListeners = new Set<(s: TransportStatus) => void>();
  const setStatus = (s: TransportStatus): void => statusListeners.forEach((l) => l(s));
  const follower = createFileFollower({ path, pollMs: options.pollMs ?? DEFAULT_POLL_MS, log, subs, setStatus });
  let state: 'new' | 'online' | 'closed' = 'new';

  function assertOnline(op: string): void {
    if (state === 'closed') throw new TransportError('FK_TRANSPORT_CLOSED', `file backend '${path}' is closed (${op})`);
    if (state !== 'online')
      throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `file backend '${path}' is not open (${op})`);
  }

  return {
    async connect() {
      if (state === 'closed')
        throw new TransportError('FK_TRANSPORT_CLOSED', `file backend '${path}' is closed (connect)`);
      ensureHistoryFile(path, options.create ?? 'file', options.createHint);
      historySize(path);
      state = 'online';
      setStatus({ kind: 'online' });
    },

    async publish(line: string, _meta: PublishMeta) {
      assertOnline('publish');
      if (/[\r\n]/.test(line))
        throw new TransportError('FK_TRANSPORT_UNAVAILABLE', 'a history line cannot contain a line break');
      // The caller computed the line (its seq, its rule check) from what was delivered up to now.
      // Lines that arrive while we wait for the lock are delivered too, so the position must be
      // taken here, before the wait: comparing under the lock with a position read after it would
      // let a stale line through (a duplicate seq, or an append to a history that turned invalid).
      const size = subs.known();
      // The lock and append code loads with the first write: a command that only reads never needs it.
      const { appendIfUnchanged } = await import('./lockedAppend');
      await appendIfUnchanged({ path, lockTimeoutMs, log }, line, {
        size,
        applies: () => exclusiveAppend && subs.size > 0,
        onChanged: follower.deliverAll,
      });
      follower.deliverAll();
    },

    async subscribe(from: string | null, handlers: SubscribeHandlers): Promise<Unsubscribe> {
      assertOnline('subscribe');
      const offset = from === null ? 0 : Number(from);
      if (!Number.isInteger(offset) || offset < 0) {
        throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `file backend: bad position '${String(from)}'`);
      }
      const sub = subs.add(offset, handlers);
      follower.deliver(sub, true);
      if (options.follow !== false) follower.start();
      queueMicrotask(() => {
        if (sub.active) handlers.onCaughtUp?.();
      });
      return async () => subs.remove(sub);
    },

    async close() {
      if (state === 'closed') return;
      state = 'closed';
      subs.clear();
      follower.stop();
      setStatus({ kind: 'closed' });
    },

    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
  };
}
