import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { nodeCrypto } from '../core/nodeCrypto';
import type * as ModelCodec from '../core/engine/modelCodec';
import { SnapshotReadError } from '../core/engine/lazyRefs';
import type { HistoryState } from '../core/engine/engine';
import { silentLogger, type Logger } from '../core/logger';
import type { Cipher } from '../core/crypto';
import type { CachedEntry } from '../core/replicaFollower';
import type { SnapshotStore, StateSnapshot } from '../core/snapshots';
import { readLinesFd } from '../transports/file';

const FORMAT = 'fk-snapshot/1';
/**
 * The model codec, loaded on first use: a history too short for a snapshot (`fk status` on a
 * small file) neither reads nor writes one, and its start-up need not load the codec.
 */
const codec = (): typeof ModelCodec => require('../core/engine/modelCodec') as typeof ModelCodec;
/**
 * About the shortest record line (`1, 2000-01-01 00:00:00+00:00, a@b.cd: StopTimer()`): a file
 * under `minLines` such lines holds no snapshot's worth of history, and is replayed without
 * looking for one. (Were it to hold one, skipping it only costs a replay: never a wrong state.)
 */
const MIN_RECORD_BYTES = 40;

/** Below this many new lines a snapshot is not (re)written: replaying them is cheaper. */
export const DEFAULT_MIN_LINES = 2000;

export interface FileSnapshotOptions {
  /** Where snapshots are kept (`<cacheDir>/snapshots`); created 0700, files 0600. */
  readonly dir: string;
  /** The history file the snapshots describe. */
  readonly path: string;
  /** Part of the key, so two identities on one file do not share a snapshot file. */
  readonly user: string;
  /** @default DEFAULT_MIN_LINES */
  readonly minLines?: number;
  /**
   * How old the file's last change (ctime) must be, when a prefix was verified, for the file's
   * identity to vouch for that prefix later (the unchanged-file fast path, see `Stamp`).
   * @default STAMP_MIN_AGE_MS
   */
  readonly stampMinAgeMs?: number;
  /** The history's key, if it is encrypted: a snapshot is used only with the key it was taken with. */
  readonly cipher?: Cipher;
  readonly logger?: Logger;
}

interface Meta {
  readonly format: string;
  readonly codec: number;
  /** The file, or the replica's key. */
  readonly file: string;
  /** Bytes of the file (entries of the replica) the snapshot covers, and their SHA-256. */
  readonly covered: number;
  readonly sha256: string;
  /** An encrypted history: a token only its key decrypts (`keyCheck`). */
  readonly key?: string;
}

/**
 * A file's identity: device, inode, size, modification and change times in nanoseconds. Any write,
 * truncation, rename over the path or metadata change alters it (ctime), unless it happened in the
 * same timestamp tick as the stat that took it: see `STAMP_MIN_AGE_MS`.
 */
function fileIdentity(
  path: string,
): { readonly id: string; readonly ctimeMs: number; readonly size: number; readonly at: number } | null {
  try {
    const st = statSync(path, { bigint: true });
    const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    return { id, ctimeMs: Number(st.ctimeNs / 1_000_000n), size: Number(st.size), at: Date.now() };
  } catch {
    return null;
  }
}

/**
 * The history must have been still this long before its identity may vouch for a verified prefix:
 * timestamps are coarse (a kernel tick, 1-2 s on some filesystems), so a write in the tick of the
 * stat could leave the identity unchanged ("racy git"). Past that age, any later write has a later
 * ctime. Three seconds cover coarse filesystems and a little clock skew.
 */
export const STAMP_MIN_AGE_MS = 3000;

/**
 * `<snapshot>.stamp`: "the file with this identity starts with the `covered` bytes hashing to
 * `sha256`", written after a full hash verified it and only when the file had been still for
 * `STAMP_MIN_AGE_MS`. While the history's identity is unchanged, `load` trusts the stamp instead of
 * rehashing the prefix (the unchanged-file fast path); anything else (an append, an edit in place,
 * a truncation, another file renamed over it) changes the identity and the prefix is hashed again.
 */
interface Stamp {
  readonly identity: string;
  readonly covered: number;
  readonly sha256: string;
}

const KEY_CHECK = '# fk snapshot key check';

/** A token only `cipher`'s key decrypts to KEY_CHECK; none for a plaintext history. */
function keyToken(cipher: Cipher | undefined): string | undefined {
  return cipher?.encryptLine(KEY_CHECK, { seq: 0, user: 'snapshot' });
}

function keyMatches(cipher: Cipher | undefined, token: string | undefined): boolean {
  if (cipher === undefined || token === undefined) return cipher === undefined && token === undefined;
  try {
    return cipher.decryptLine(token) === KEY_CHECK;
  } catch {
    return false;
  }
}

/**
 * Snapshots of a history file's model (the store behind `ClientOptions.snapshots`):
 * one file per history and user, holding the size and SHA-256 of the prefix it covers, then the
 * model (core/engine/modelCodec.ts). `load` trusts nothing: a snapshot whose prefix no longer
 * hashes the same (an early line edited, the file replaced or truncated), of another format, or
 * that does not decode is deleted and ignored, and the client replays the whole file (and saves
 * a new one). An encrypted history's snapshot is used only with its key. A snapshot holds the
 * model in the clear, in the cache folder that already holds the derived keys (keyCache.ts): it is
 * as sensitive as they are. Deleting the folder costs one full replay, nothing else.
 */
export function createFileSnapshotStore(opts: FileSnapshotOptions): SnapshotStore {
  const log = (opts.logger ?? silentLogger).child({ component: 'snapshots' });
  const minLines = opts.minLines ?? DEFAULT_MIN_LINES;
  const real = (): string => {
    try {
      return realpathSync(opts.path);
    } catch {
      return opts.path;
    }
  };
  // Named when first needed: a small history never looks for a snapshot (nor loads node:crypto).
  let named: string | undefined;
  const snapFile = (realPath?: string): string =>
    (named ??= join(
      opts.dir,
      `${nodeCrypto()
        .createHash('sha256')
        .update(`${realPath ?? real()}\n${opts.user}`)
        .digest('hex')
        .slice(0, 32)}.snap`,
    ));
  /**
   * The history's identity when `load` ran (before the client read it). `save` writes only if the
   * file is still exactly that one: else what it would hash now may not be what was replayed (a
   * line appended or the file rewritten meanwhile), and the next command saves instead.
   */
  let seen: string | null = null;
  const identity = (): string | null => fileIdentity(opts.path)?.id ?? null;
  const stampFile = (): string => `${snapFile()}.stamp`;
  const minAge = opts.stampMinAgeMs ?? STAMP_MIN_AGE_MS;
  /**
   * Whether the prefix `m` covers is the one it hashed: by the stamp if the file is unchanged since
   * `before` (its identity when `load` began), else by hashing.
   */
  const prefixMatches = (m: Meta, before: NonNullable<ReturnType<typeof fileIdentity>>): boolean => {
    const statAt = before.at;
    const stamp = readStamp(stampFile());
    if (stamp?.identity === before.id && stamp.covered === m.covered && stamp.sha256 === m.sha256) return true;
    if (prefixHash(opts.path, m.covered) !== m.sha256) return false;
    // Vouch for this identity only if nothing could have changed the file unseen, during or just before the hash.
    if (before.ctimeMs < statAt - minAge && identity() === before.id) {
      writeStamp(stampFile(), { identity: before.id, covered: m.covered, sha256: m.sha256 });
    }
    return true;
  };
  return {
    async load(): Promise<StateSnapshot | null> {
      // One stat: what `save` compares with, the size test and the stamp's identity.
      const before = fileIdentity(opts.path);
      seen = before?.id ?? null;
      // No snapshot is ever saved for so few lines (minLines): replaying them is the cheap way.
      if (before === null || before.size < minLines * MIN_RECORD_BYTES) return null;
      const realPath = real();
      const found = readSnapshot(snapFile(realPath), log, (m) =>
        m.file !== realPath
          ? 'of another file'
          : !keyMatches(opts.cipher, m.key)
            ? 'of another key'
            : !prefixMatches(m, before)
              ? 'the history no longer starts as it did'
              : null,
      );
      if (found === null) rmSync(stampFile(), { force: true });
      return found;
    },

    async save(state: HistoryState, position: string, fresh: number): Promise<void> {
      const covered = Number(position);
      if (fresh < minLines || !snapshotable(state) || !Number.isSafeInteger(covered) || covered <= 0) return;
      if (seen === null || identity() !== seen) return;
      const sha256 = prefixHash(opts.path, covered);
      if (sha256 === null) return;
      const key = keyToken(opts.cipher);
      writeSnapshot(
        opts.dir,
        snapFile(),
        { format: FORMAT, codec: codec().MODEL_CODEC_VERSION, file: real(), covered, sha256, ...(key ? { key } : {}) },
        state,
      );
    },
  };
}

export interface ReplicaSnapshotOptions {
  /** Where snapshots are kept (`<cacheDir>/snapshots`). */
  readonly dir: string;
  /** The replica's key (backend and user): one snapshot per replica. */
  readonly key: string;
  /** @default DEFAULT_MIN_LINES */
  readonly minLines?: number;
  readonly cipher?: Cipher;
  readonly logger?: Logger;
}

/**
 * Snapshots of a broker history's model, anchored in the local replica (app/replicaCache.ts):
 * a snapshot covers the replica's first `covered` entries and holds their SHA-256; it is used
 * only while the replica still starts with exactly those entries (the client checks the replica
 * itself against the backend), and only with the key it was taken with.
 */
export function createReplicaSnapshotStore(opts: ReplicaSnapshotOptions): SnapshotStore {
  const log = (opts.logger ?? silentLogger).child({ component: 'snapshots' });
  const minLines = opts.minLines ?? DEFAULT_MIN_LINES;
  const id = nodeCrypto().createHash('sha256').update(`replica\n${opts.key}`).digest('hex').slice(0, 32);
  const file = join(opts.dir, `${id}.snap`);
  return {
    async load(replica?: readonly CachedEntry[]): Promise<StateSnapshot | null> {
      if (replica === undefined || replica.length === 0) return null;
      return readSnapshot(file, log, (m) =>
        m.file !== id
          ? 'of another replica'
          : !keyMatches(opts.cipher, m.key)
            ? 'of another key'
            : m.covered > replica.length || entriesHash(replica, m.covered) !== m.sha256
              ? 'the replica no longer starts as it did'
              : null,
      );
    },

    async save(state: HistoryState, _position: string, fresh: number, replica?: readonly CachedEntry[]): Promise<void> {
      if (
        replica === undefined ||
        replica.length === 0 ||
        fresh < minLines ||
        !snapshotable(state) ||
        state.lineNumber !== replica.length
      )
        return;
      const key = keyToken(opts.cipher);
      const meta = {
        format: FORMAT,
        codec: codec().MODEL_CODEC_VERSION,
        file: id,
        covered: replica.length,
        sha256: entriesHash(replica, replica.length),
      };
      writeSnapshot(opts.dir, file, { ...meta, ...(key ? { key } : {}) }, state);
    },
  };
}

/**
 * A valid history whose state lists no skipped or doubtful lines (they hold errors, which the codec
 * does not write): a broker log with junk in it is replayed from its replica, as before.
 */
function snapshotable(state: HistoryState): boolean {
  return (
    state.error === null &&
    state.skipped.length === 0 &&
    state.doubtful.length === 0 &&
    state.sequenceProblems.length === 0
  );
}

/** SHA-256 over the first `count` entries (line and position each). */
function entriesHash(entries: readonly CachedEntry[], count: number): string {
  const hash = nodeCrypto().createHash('sha256');
  for (let i = 0; i < count; i++) {
    const e = entries[i] as CachedEntry;
    hash.update(`${e.position}\u0000${e.line}\n`);
  }
  return hash.digest('hex');
}

/**
 * Reads a snapshot whose meta `reject` finds nothing wrong with (else deletes it); null without one.
 * Only its header is decoded now: the rest is read when the model first reaches into it, through
 * the descriptor opened here and held as long as the model may need it. Snapshots are only ever
 * replaced by renaming a new file over them, which leaves this descriptor on the file it restored;
 * the file's identity is checked again at each late read, so that a change in place (or a
 * truncation) is a `SnapshotReadError` where it is met (and the snapshot is deleted), never a model
 * that is not the history's.
 */
function readSnapshot(file: string, log: Logger, reject: (m: Meta) => string | null): StateSnapshot | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  const discard = (why: string): null => {
    log.info({ file, why }, 'snapshot ignored');
    rmSync(file, { force: true });
    return null;
  };
  let keep = false;
  try {
    let meta: Meta | null = null;
    const bodyStart = readLinesFd(fd, (line) => {
      meta = JSON.parse(line) as Meta;
      return false;
    });
    const m = meta as Meta | null;
    if (m === null || m.format !== FORMAT || m.codec !== codec().MODEL_CODEC_VERSION) return discard('another format');
    const why = reject(m);
    if (why !== null) return discard(why);
    const opened = fdIdentity(fd);
    const read = (offset: number, length: number): string => {
      const now = fdIdentity(fd);
      if (now !== opened) {
        try {
          if (contentIdentity(statSync(file, { bigint: true })) === now) rmSync(file, { force: true });
        } catch {
          /* gone already */
        }
        throw new SnapshotReadError(`snapshot ${file} was changed while in use: run the command again`);
      }
      const buf = Buffer.allocUnsafe(length);
      for (let got = 0; got < length;) {
        const n = readSync(fd, buf, got, length - got, bodyStart + offset + got);
        if (n === 0) throw new SnapshotReadError(`snapshot ${file} ends before byte ${bodyStart + offset + length}`);
        got += n;
      }
      return buf.toString('utf8');
    };
    const size = Number(fstatSync(fd).size) - bodyStart;
    const state = codec().decodeHistoryState(read, size);
    keep = true;
    openSnapshots.register(read, fd);
    return { state, position: String(m.covered), fork: () => codec().decodeHistoryState(read, size) };
  } catch (err) {
    return discard(`unreadable: ${(err as Error).message}`);
  } finally {
    if (!keep) closeSync(fd);
  }
}

/** Closes a restored snapshot's descriptor once its model (and so its reader) is gone. */
const openSnapshots = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    /* closed already */
  }
});

/**
 * What changes when a file's content does (a write or truncation sets its mtime): device, inode,
 * size, mtime. Not ctime, which a rename over the path changes on the old file (its link count).
 */
function contentIdentity(st: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

function fdIdentity(fd: number): string {
  return contentIdentity(fstatSync(fd, { bigint: true }));
}

/** Writes a snapshot atomically (a temporary file renamed over the old one), 0600 in a 0700 folder. */
function writeSnapshot(dir: string, file: string, meta: Meta, state: HistoryState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${nodeCrypto().randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    const out = bufferedWriter(fd);
    out(JSON.stringify(meta));
    codec().encodeHistoryState(state, out);
    out(null);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

function readStamp(file: string): Stamp | null {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<Stamp>;
    return typeof s.identity === 'string' && typeof s.covered === 'number' && typeof s.sha256 === 'string'
      ? (s as Stamp)
      : null;
  } catch {
    return null;
  }
}

/** Writes a stamp atomically (it is only ever trusted whole), 0600; a failure only costs a hash next time. */
function writeStamp(file: string, stamp: Stamp): void {
  const tmp = `${file}.${process.pid}.${nodeCrypto().randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(stamp), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** SHA-256 of the first `bytes` of a file, or null when it is shorter. */
function prefixHash(path: string, bytes: number): string | null {
  const fd = openSync(path, 'r');
  try {
    if (fstatSync(fd).size < bytes) return null;
    const hash = nodeCrypto().createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < bytes;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, bytes - pos), pos);
      if (n === 0) return null;
      hash.update(buf.subarray(0, n));
      pos += n;
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** Writes lines to `fd` in ~1 MiB pieces; `null` flushes. */
function bufferedWriter(fd: number): (line: string | null) => void {
  let parts: string[] = [];
  let size = 0;
  const flush = (): void => {
    const buf = Buffer.from(parts.join(''), 'utf8');
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
    parts = [];
    size = 0;
  };
  return (line) => {
    if (line === null) return flush();
    parts.push(line, '\n');
    size += line.length + 1;
    if (size >= 1 << 20) flush();
  };
}
