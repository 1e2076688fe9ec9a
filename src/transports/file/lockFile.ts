import { closeSync, fstatSync, ftruncateSync, openSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { TransportError } from '../../core/errors';

/** The host's name, for the lock's holder (node:os loaded only when a lock is taken: start-up cost). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hostname = (): string => (require('node:os') as typeof import('node:os')).hostname();

/**
 * An exclusive lock on a path that dies with its holder, shared by every `fk` program that needs
 * one (a file history's `<file>.lock`, the daemon's state directory).
 *
 * The lock is an OS advisory lock on the lock file's open file description (Linux `F_OFD_SETLK`,
 * BSD `flock` on macOS, `LockFileEx` on Windows, through `fs-native-extensions`). The kernel drops
 * it when the holder exits, however it exits (kill -9 included), so a lock is never stale: an
 * empty or leftover lock file, or one naming a pid that now belongs to another process, blocks
 * nobody. Two locks in one process exclude each other too (they are two open descriptions).
 *
 * The file's content only describes the holder for error messages (pid, host, command, since);
 * nothing trusts it. On release the holder unlinks the file before closing it; a waiter that then
 * gets the lock on the unlinked file sees that the path names another file (or none) and retries,
 * so two processes never both believe they hold the lock.
 */

/** Who holds a lock, as the holder wrote it. Any field may be missing (a holder that is still writing). */
export interface LockHolder {
  readonly pid?: number;
  readonly host?: string;
  readonly command?: string;
  /** ISO instant at which the holder took the lock. */
  readonly since?: string;
}

export interface HeldLock {
  readonly path: string;
  /** Unlinks the lock file and releases the lock; idempotent. */
  release(): void;
}

export type TryLockResult = { readonly held: HeldLock } | { readonly held: null; readonly holder: LockHolder | null };

interface NativeLocks {
  tryLock(fd: number): boolean;
}

let native: NativeLocks | null = null;

/** Loaded on first use: commands that never lock do not pay for the native addon. */
function locks(): NativeLocks {
  if (native === null) {
    try {
      native = require('fs-native-extensions') as NativeLocks;
    } catch (err) {
      throw new TransportError(
        'FK_TRANSPORT_UNAVAILABLE',
        `file locking is not available on this platform: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  return native;
}

/** Masks a password in any URL of a command line (`//user:secret@` → `//user:***@`). */
function maskCredentials(text: string): string {
  return text.replace(/(\/\/[^/:@\s]*):[^@\s]*@/g, '$1:***@');
}

/** This process as a lock holder describes itself. */
function selfDescription(): LockHolder {
  const args = process.argv.slice(1);
  const script = args[0] === undefined ? 'node' : basename(args[0]);
  const command = maskCredentials([script, ...args.slice(1)].join(' '));
  return {
    pid: process.pid,
    host: hostname(),
    command: command.length > 120 ? `${command.slice(0, 117)}...` : command,
    since: new Date().toISOString(),
  };
}

function readHolder(fd: number): LockHolder | null {
  try {
    const buf = Buffer.alloc(1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const parsed = JSON.parse(buf.toString('utf8', 0, n)) as unknown;
    if (parsed === null || typeof parsed !== 'object') return null;
    const o = parsed as Record<string, unknown>;
    return {
      ...(Number.isInteger(o.pid) ? { pid: o.pid as number } : {}),
      ...(typeof o.host === 'string' ? { host: o.host } : {}),
      ...(typeof o.command === 'string' ? { command: o.command } : {}),
      ...(typeof o.since === 'string' ? { since: o.since } : {}),
    };
  } catch {
    return null; // empty (the holder is still writing it), or not ours: we only lose the details
  }
}

/** `pid 4242 on host (fk backlog create x), since 2026-06-10T12:00:00.000Z`, or what is known of it. */
export function describeHolder(holder: LockHolder | null): string {
  if (holder === null || holder.pid === undefined) return 'another process (it has not said which yet)';
  const where = holder.host !== undefined && holder.host !== hostname() ? ` on ${holder.host}` : '';
  const what = holder.command !== undefined ? ` (${holder.command.replace(/[\x00-\x1f\x7f]/g, '?')})` : '';
  const since = holder.since !== undefined ? `, since ${holder.since}` : '';
  return `pid ${holder.pid}${where}${what}${since}`;
}

/** Takes the lock on `path` now, or says who holds it. Creates the file (mode 0600) when missing. */
export function tryLockFile(path: string): TryLockResult {
  const lib = locks();
  for (;;) {
    const fd = openSync(path, 'a+', 0o600);
    let granted: boolean;
    try {
      granted = lib.tryLock(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (!granted) {
      const holder = readHolder(fd);
      closeSync(fd);
      return { held: null, holder };
    }
    // We hold a lock on this file; is it still the one at `path`, or did its last holder unlink it?
    let current: { ino: number; dev: number } | null = null;
    try {
      current = statSync(path);
    } catch {
      current = null;
    }
    const mine = fstatSync(fd);
    if (current === null || current.ino !== mine.ino || current.dev !== mine.dev) {
      closeSync(fd);
      continue;
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${JSON.stringify(selfDescription())}\n`);
    let released = false;
    return {
      held: {
        path,
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(path);
          } catch {
            /* removed by hand: the lock itself goes with the descriptor */
          }
          closeSync(fd);
        },
      },
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface LockWaitOptions {
  /** How long to wait for the holder before giving up. */
  readonly timeoutMs: number;
  /** Called once, with the holder, when the lock is not free at the first try. */
  readonly onWait?: (holder: LockHolder | null) => void;
  /** Names the locked thing in the timeout error. @default `'<path>'` */
  readonly what?: string;
}

/**
 * Waits (polling with backoff, 5 ms to 200 ms) until the lock on `path` is free and takes it.
 * Throws `TransportError FK_TRANSPORT_TIMEOUT` naming the holder after `timeoutMs`.
 */
export async function lockFile(path: string, opts: LockWaitOptions): Promise<HeldLock> {
  const started = Date.now();
  let waited = false;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    let r: TryLockResult;
    try {
      r = tryLockFile(path);
    } catch (err) {
      if (err instanceof TransportError) throw err;
      throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `cannot lock '${path}': ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (r.held !== null) return r.held;
    if (!waited) {
      waited = true;
      opts.onWait?.(r.holder);
    }
    if (Date.now() - started >= opts.timeoutMs) {
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      throw new TransportError(
        'FK_TRANSPORT_TIMEOUT',
        `${opts.what ?? `'${path}'`} is locked by ${describeHolder(r.holder)}; gave up after ${seconds} s ` +
          `(lock file '${path}'; the lock ends when that process exits)`,
        { retryable: true, details: r.holder === null ? {} : { ...r.holder } },
      );
    }
    await sleep(delay);
  }
}
