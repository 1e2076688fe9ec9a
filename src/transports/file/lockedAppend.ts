import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, realpathSync, writeSync } from 'node:fs';
import { DomainError, TransportError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { lockFile } from './lockFile';

/** Where and how to append (see `appendIfUnchanged`). */
export interface LockedAppendOptions {
  readonly path: string;
  /** How long to wait for another writer's lock before giving up. */
  readonly lockTimeoutMs: number;
  readonly log: Logger;
}

/** The condition of an append: the file still holds exactly what the caller has read. */
export interface AppendCondition {
  /** Bytes the caller has read, taken before waiting for the lock. */
  readonly size: number;
  /** Asked under the lock: whether the condition holds at all (else the line is appended anyway). */
  readonly applies: () => boolean;
  /** Called under the lock when the file grew meanwhile, before the conflict is thrown. */
  readonly onChanged: () => void;
}

/**
 * Appends one line to the history file, "append only if unchanged": under `<file>.lock` (an OS
 * lock that dies with its holder, see `lockFile.ts`), and only if the file is still `size` bytes
 * long; otherwise `FK_SEQUENCE_CONFLICT`, so the caller re-checks against the new lines and
 * retries. A line after an unterminated last line gets a newline first. The line is written whole
 * and synced, or not at all.
 */
export async function appendIfUnchanged(
  opts: LockedAppendOptions,
  line: string,
  unchanged: AppendCondition,
): Promise<void> {
  const { path } = opts;
  const unlock = await lock(opts);
  try {
    const fd = openForAppend(path);
    try {
      const total = fstatSync(fd).size;
      if (unchanged.applies() && total !== unchanged.size) {
        // Someone appended since we last read: hand the news to the client and let it retry.
        unchanged.onChanged();
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
      appendWhole(opts, fd, total, Buffer.from(`${prefix}${line}\n`, 'utf8'));
    } finally {
      closeSync(fd);
    }
  } finally {
    unlock();
  }
}

async function lock(opts: LockedAppendOptions): Promise<() => void> {
  const { path, log } = opts;
  // Next to the real file: writers naming it through a symbolic link must share the lock.
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    /* reported by the append itself */
  }
  const held = await lockFile(`${real}.lock`, {
    timeoutMs: opts.lockTimeoutMs,
    what: `history file '${path}'`,
    onWait: (holder) => log.info({ holder }, 'waiting for the history lock'),
  });
  return () => held.release();
}

function openForAppend(path: string): number {
  try {
    return openSync(path, 'a+');
  } catch (err) {
    throw fileError(path, 'cannot open history file', err);
  }
}

/**
 * Writes all of `bytes` and syncs, or leaves the file as it was: a short write (disk full, file
 * size limit) must not leave half a line, which would make the history invalid for everyone.
 */
function appendWhole(opts: LockedAppendOptions, fd: number, before: number, bytes: Buffer): void {
  try {
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    try {
      ftruncateSync(fd, before);
      fsyncSync(fd);
    } catch (undo) {
      opts.log.error({ err: undo }, 'could not remove a partly written line');
    }
    throw fileError(opts.path, 'cannot append to history file', err);
  }
}

function fileError(path: string, what: string, err: unknown): TransportError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const denied = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
  return new TransportError(
    denied ? 'FK_ACCESS_DENIED' : 'FK_TRANSPORT_UNAVAILABLE',
    `${what} '${path}': ${(err as Error).message}`,
    { cause: err, retryable: !denied },
  );
}
