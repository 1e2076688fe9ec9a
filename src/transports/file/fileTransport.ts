import {
  closeSync,
  fstatSync,
  ftruncateSync,
  realpathSync,
  fsyncSync,
  openSync,
  readSync,
  statSync,
  watch,
  writeSync,
  type FSWatcher,
} from 'node:fs';
import { DomainError, TransportError } from '../../core/errors';
import { silentLogger, type Logger } from '../../core/logger';
import { ensureHistoryFile, type CreateHistory } from './historyPath';
import { lockFile } from './lockFile';
import { readLinesFd } from './lineReader';
import type { PublishMeta, SubscribeHandlers, Transport, TransportStatus, Unsubscribe } from '../../core/transport';

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
  /** How long to wait for another writer's lock before giving up. @default 5000 */
  readonly lockTimeoutMs?: number;
  readonly logger?: Logger;
}

export const DEFAULT_POLL_MS = 1000;
export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

interface Subscription {
  offset: number;
  readonly handlers: SubscribeHandlers;
  active: boolean;
}

/**
 * The file backend: one line per record, exactly the format Flowkeeper desktop writes, so the
 * desktop app and `fk` can share a data file. Earlier lines are never rewritten: `publish`
 * appends under `<file>.lock` (an OS lock that dies with its holder, see `lockFile.ts`) and only
 * if nobody appended since the caller last read ("append only if unchanged"), otherwise it rejects
 * with `FK_SEQUENCE_CONFLICT` after delivering the new lines, so the client re-checks and retries.
 * Lines appended by another process (the desktop app) are
 * noticed through file-system events plus polling and delivered to subscribers.
 *
 * Positions are byte offsets just past each line's newline.
 */
export function createFileTransport(options: FileTransportOptions): Transport {
  const path = options.path;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const exclusiveAppend = options.exclusiveAppend ?? true;
  const log = (options.logger ?? silentLogger).child({ component: 'file', path });
  const subs = new Set<Subscription>();
  const statusListeners = new Set<(s: TransportStatus) => void>();
  let state: 'new' | 'online' | 'closed' = 'new';
  let watcher: FSWatcher | null = null;
  let poll: NodeJS.Timeout | null = null;

  const setStatus = (s: TransportStatus): void => statusListeners.forEach((l) => l(s));

  function assertOnline(op: string): void {
    if (state === 'closed') throw new TransportError('FK_TRANSPORT_CLOSED', `file backend '${path}' is closed (${op})`);
    if (state !== 'online')
      throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `file backend '${path}' is not open (${op})`);
  }

  function size(): number {
    try {
      return statSync(path).size;
    } catch (err) {
      throw new TransportError(
        'FK_TRANSPORT_UNAVAILABLE',
        `cannot read history file '${path}': ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Delivers the complete lines after `sub.offset` (the unterminated tail too when `final`),
   * streamed a chunk at a time: memory stays bounded by the longest line, not the file.
   */
  function deliver(sub: Subscription, final: boolean): void {
    if (!sub.active) return;
    const total = size();
    if (total < sub.offset) {
      throw new TransportError(
        'FK_TRANSPORT_UNAVAILABLE',
        `history file '${path}' shrank from ${sub.offset} to ${total} bytes: it was rewritten`,
      );
    }
    if (total === sub.offset) return;
    const fd = openSync(path, 'r');
    try {
      readLinesFd(
        fd,
        (line, end) => {
          if (!sub.active) return;
          sub.offset = end;
          sub.handlers.onEntry({ line, position: String(end) });
        },
        { from: sub.offset, to: total, final },
      );
    } finally {
      closeSync(fd);
    }
  }

  /** Set when the file can no longer be followed (rewritten, removed): reported once, not every poll. */
  let broken: string | null = null;

  function deliverAll(): void {
    for (const sub of subs) {
      try {
        deliver(sub, false);
        if (broken !== null) {
          broken = null;
          setStatus({ kind: 'online' });
        }
      } catch (err) {
        const reason = (err as Error).message;
        if (broken !== reason) {
          broken = reason;
          log.error({ err }, 'cannot follow the history file');
          setStatus({ kind: 'offline', reason });
        }
      }
    }
  }

  function openForAppend(): number {
    try {
      return openSync(path, 'a+');
    } catch (err) {
      throw fileError('cannot open history file', err);
    }
  }

  /**
   * Writes all of `bytes` and syncs, or leaves the file as it was: a short write (disk full, file
   * size limit) must not leave half a line, which would make the history invalid for everyone.
   */
  function appendWhole(fd: number, before: number, bytes: Buffer): void {
    try {
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } catch (err) {
      try {
        ftruncateSync(fd, before);
        fsyncSync(fd);
      } catch (undo) {
        log.error({ err: undo }, 'could not remove a partly written line');
      }
      throw fileError('cannot append to history file', err);
    }
  }

  function fileError(what: string, err: unknown): TransportError {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const denied = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
    return new TransportError(
      denied ? 'FK_ACCESS_DENIED' : 'FK_TRANSPORT_UNAVAILABLE',
      `${what} '${path}': ${(err as Error).message}`,
      {
        cause: err,
        retryable: !denied,
      },
    );
  }

  async function lock(): Promise<() => void> {
    // Next to the real file: writers naming it through a symbolic link must share the lock.
    let real = path;
    try {
      real = realpathSync(path);
    } catch {
      /* reported by the append itself */
    }
    const held = await lockFile(`${real}.lock`, {
      timeoutMs: lockTimeoutMs,
      what: `history file '${path}'`,
      onWait: (holder) => log.info({ holder }, 'waiting for the history lock'),
    });
    return () => held.release();
  }

  return {
    async connect() {
      if (state === 'closed')
        throw new TransportError('FK_TRANSPORT_CLOSED', `file backend '${path}' is closed (connect)`);
      ensureHistoryFile(path, options.create ?? 'file', options.createHint);
      size();
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
      const known = Math.max(0, ...[...subs].filter((s) => s.active).map((s) => s.offset));
      const unlock = await lock();
      try {
        const fd = openForAppend();
        try {
          const total = fstatSync(fd).size;
          if (exclusiveAppend && subs.size > 0 && total !== known) {
            // Someone appended since we last read: hand the news to the client and let it retry.
            deliverAll();
            throw new DomainError(
              'FK_SEQUENCE_CONFLICT',
              `history file '${path}' changed while appending; re-checking against the new lines`,
            );
          }
          let prefix = '';
          if (total > 0) {
            const last = Buffer.alloc(1);
            readSync(fd, last, 0, 1, total - 1);
            if (last[0] !== 0x0a && last[0] !== 0x0d) prefix = '\n';
          }
          appendWhole(fd, total, Buffer.from(`${prefix}${line}\n`, 'utf8'));
        } finally {
          closeSync(fd);
        }
      } finally {
        unlock();
      }
      deliverAll();
    },

    async subscribe(from: string | null, handlers: SubscribeHandlers): Promise<Unsubscribe> {
      assertOnline('subscribe');
      const offset = from === null ? 0 : Number(from);
      if (!Number.isInteger(offset) || offset < 0) {
        throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `file backend: bad position '${String(from)}'`);
      }
      const sub: Subscription = { offset, handlers, active: true };
      subs.add(sub);
      deliver(sub, true);
      if (watcher === null) {
        try {
          watcher = watch(path, { persistent: false }, () => deliverAll());
          watcher.on('error', (err) => log.warn({ err }, 'file watch failed; polling only'));
        } catch (err) {
          log.warn({ err }, 'file watch unavailable; polling only');
        }
      }
      if (poll === null) {
        poll = setInterval(deliverAll, pollMs);
        poll.unref();
      }
      queueMicrotask(() => {
        if (sub.active) handlers.onCaughtUp?.();
      });
      return async () => {
        sub.active = false;
        subs.delete(sub);
      };
    },

    async close() {
      if (state === 'closed') return;
      state = 'closed';
      for (const s of subs) s.active = false;
      subs.clear();
      watcher?.close();
      watcher = null;
      if (poll) clearInterval(poll);
      poll = null;
      setStatus({ kind: 'closed' });
    },

    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
  };
}
