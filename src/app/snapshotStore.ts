import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHistoryState, encodeHistoryState, MODEL_CODEC_VERSION } from '../core/engine/modelCodec';
import type { HistoryState } from '../core/engine/engine';
import { silentLogger, type Logger } from '../core/logger';
import type { SnapshotStore, StateSnapshot } from '../core/snapshots';
import { linesOfFd, readLinesFd } from '../transports/file';

const FORMAT = 'fk-snapshot/1';
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
  readonly logger?: Logger;
}

interface Meta {
  readonly format: string;
  readonly codec: number;
  readonly file: string;
  /** Bytes of the history the snapshot covers, and their SHA-256. */
  readonly covered: number;
  readonly sha256: string;
}

/**
 * Snapshots of a plaintext history file's model (the store behind `ClientOptions.snapshots`):
 * one file per history and user, holding the size and SHA-256 of the prefix it covers, then the
 * model (core/engine/modelCodec.ts). `load` trusts nothing: a snapshot whose prefix no longer
 * hashes the same (an early line edited, the file replaced or truncated), of another format, or
 * that does not decode is deleted and ignored, and the client replays the whole file (and saves
 * a new one). Deleting the folder costs one full replay, nothing else.
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
  const file = join(opts.dir, `${createHash('sha256').update(`${real()}\n${opts.user}`).digest('hex').slice(0, 32)}.snap`);
  /**
   * The history's identity when `load` ran (before the client read it). `save` writes only if the
   * file is still exactly that one: else what it would hash now may not be what was replayed (a
   * line appended or the file rewritten meanwhile), and the next command saves instead.
   */
  let seen: string | null = null;
  const identity = (): string | null => {
    try {
      const st = statSync(opts.path, { bigint: true });
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      return null;
    }
  };
  const discard = (why: string): null => {
    log.info({ file, why }, 'snapshot ignored');
    rmSync(file, { force: true });
    return null;
  };

  return {
    async load(): Promise<StateSnapshot | null> {
      seen = identity();
      let fd: number;
      try {
        fd = openSync(file, 'r');
      } catch {
        return null;
      }
      try {
        let meta: Meta | null = null;
        const bodyStart = readLinesFd(fd, (line) => {
          meta = JSON.parse(line) as Meta;
          return false;
        });
        const m = meta as Meta | null;
        if (m === null || m.format !== FORMAT || m.codec !== MODEL_CODEC_VERSION || m.file !== real()) return discard('another format or file');
        if (prefixHash(opts.path, m.covered) !== m.sha256) return discard('the history no longer starts as it did');
        const state = decodeHistoryState(linesOfFd(fd, { from: bodyStart }));
        return { state, position: String(m.covered) };
      } catch (err) {
        return discard(`unreadable: ${(err as Error).message}`);
      } finally {
        closeSync(fd);
      }
    },

    async save(state: HistoryState, position: string, fresh: number): Promise<void> {
      const covered = Number(position);
      if (fresh < minLines || state.error !== null || !Number.isSafeInteger(covered) || covered <= 0) return;
      if (seen === null || identity() !== seen) return;
      const sha256 = prefixHash(opts.path, covered);
      if (sha256 === null) return;
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        const out = bufferedWriter(fd);
        out(JSON.stringify({ format: FORMAT, codec: MODEL_CODEC_VERSION, file: real(), covered, sha256 } satisfies Meta));
        encodeHistoryState(state, out);
        out(null);
        closeSync(fd);
        renameSync(tmp, file);
      } catch (err) {
        closeSync(fd);
        rmSync(tmp, { force: true });
        throw err;
      }
    },
  };
}

/** SHA-256 of the first `bytes` of a file, or null when it is shorter. */
function prefixHash(path: string, bytes: number): string | null {
  const fd = openSync(path, 'r');
  try {
    if (fstatSync(fd).size < bytes) return null;
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < bytes; ) {
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
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
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
