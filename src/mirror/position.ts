import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError, InputError } from '../core/errors';
import { describeHolder, tryLockFile, type HeldLock } from '../transports/file';

/**
 * The mirror's durable position: how far the desktop file was copied, and a SHA-256 of the file
 * up to there. The broker history itself says which records it holds (the mirror compares them
 * with the file's at every start, so a copy is never duplicated or skipped, even when the
 * position lags behind after a kill -9); the position is what tells, at the next start, that the
 * file was rewritten meanwhile (a desktop repair or compaction) instead of only finding that some
 * record differs. One JSON file per (file, broker history, user) in
 * `$XDG_STATE_HOME/flowkeeper-headless/mirror/`, replaced atomically, and locked (`<file>.lock`,
 * an OS lock that dies with its holder) by the one mirror that uses it.
 */
export interface MirrorPosition {
  /** Records of the file known to be in the broker history. */
  readonly records: number;
  /** Byte offset just past the last of them. */
  readonly offset: number;
  /** SHA-256 (hex) of the file's first `offset` bytes. */
  readonly sha256: string;
}

export interface PositionStore {
  readonly path: string;
  /** The saved position (null: none yet); `verify` checks it against the file. */
  readonly saved: MirrorPosition | null;
  /**
   * Checks that the file still starts with what the saved position covers (and makes that prefix
   * the start of the running hash). Throws `FK_HISTORY_DIVERGED` when it does not.
   */
  verify(): void;
  /** Saves `records` up to `offset` (hashing the file from the last saved offset). */
  save(records: number, offset: number): void;
  close(): void;
}

const CHUNK = 1 << 20;

export interface PositionStoreOptions {
  readonly dir: string;
  readonly key: string;
  /** The desktop file's path (for messages). */
  readonly file: string;
  /** The desktop file, opened once by the caller (the follower reads the same descriptor): what is hashed. */
  readonly fd: number;
  readonly describe: string;
}

export function openPositionStore(opts: PositionStoreOptions): PositionStore {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const path = join(opts.dir, `${createHash('sha256').update(opts.key).digest('hex').slice(0, 24)}.json`);
  const r = tryLockFile(`${path}.lock`);
  if (r.held === null) {
    const holder = describeHolder(r.holder);
    throw new InputError('FK_CONFIG_INVALID', `another fk mirror already copies ${opts.describe} (${holder})`);
  }
  const lock: HeldLock = r.held;
  const saved = load(path);
  let hash: Hash = createHash('sha256');
  let hashedTo = 0;

  /** Hashes the file from `hashedTo` to `to`; false when the file ends before. */
  function hashTo(to: number): boolean {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, to - hashedTo)));
    while (hashedTo < to) {
      const n = readSync(opts.fd, buf, 0, Math.min(buf.length, to - hashedTo), hashedTo);
      if (n === 0) return false;
      hash.update(buf.subarray(0, n));
      hashedTo += n;
    }
    return true;
  }

  return {
    path,
    saved,
    verify() {
      if (saved === null) return;
      hash = createHash('sha256');
      hashedTo = 0;
      const complete = hashTo(saved.offset);
      if (!complete || hash.copy().digest('hex') !== saved.sha256) {
        throw new DomainError(
          'FK_HISTORY_DIVERGED',
          `the desktop file '${opts.file}' was rewritten since ${saved.records} of its records were copied ` +
            `(its first ${saved.offset} bytes ${complete ? 'changed' : 'are gone'}): ` +
            'a repair or compaction in the desktop app? Nothing more is copied. The copied history is ' +
            `still whole; to start over, copy to a new broker history and delete '${path}'`,
        );
      }
    },
    save(records, offset) {
      if (offset < hashedTo) return; // never backwards
      if (!hashTo(offset)) return; // the file shrank: the follower reports it
      const sha256 = hash.copy().digest('hex');
      const text = `${JSON.stringify({ records, offset, sha256, savedAt: new Date().toISOString() })}\n`;
      const tmp = `${path}.tmp`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    },
    close() {
      lock.release();
    },
  };
}

function load(path: string): MirrorPosition | null {
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<MirrorPosition>;
    const ok = Number.isSafeInteger(v.records) && Number.isSafeInteger(v.offset) && typeof v.sha256 === 'string';
    return ok ? { records: v.records as number, offset: v.offset as number, sha256: v.sha256 as string } : null;
  } catch {
    return null; // a damaged position only costs the rewrite check: the records are compared anyway
  }
}
