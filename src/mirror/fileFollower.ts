import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import type { Cipher } from '../core/crypto';
import { DomainError, InputError } from '../core/errors';
import { applyLine, createHistoryState, type EngineOptions, type HistoryState } from '../core/engine/engine';
import { readLinesFd } from '../transports/file';
import type { FileRecord } from './matcher';

export interface FileFollowerOptions {
  readonly path: string;
  /**
   * The file, opened once by the caller (`openDesktopFile`), who closes it: every byte read comes
   * from it, and `path` only tells whether the desktop app still writes that file.
   */
  readonly fd: number;
  /** The desktop file's cipher when its records are Fernet-encrypted. */
  readonly cipher?: Cipher;
  /** Called when the file may have grown (file-system event or poll). */
  readonly onChange: () => void;
  /** @default 1000 */
  readonly pollMs?: number;
  /** Microseconds since the epoch (records of the file's replay apply at it; no rule reads it). */
  readonly now?: () => number;
}

/**
 * Follows the desktop app's data file, which only the desktop app writes (appending, without a
 * lock): only complete lines are read (the app may be half-way through writing one), each goes
 * through the record engine with Flowkeeper's strict file rule (what a broker history can hold:
 * a line the desktop app would skip would be a gap there), and every read first checks that the
 * file is still the one it read: still the file at its path (a desktop repair or compaction
 * renames it and writes a new one: whenever the path names another file or, between the two, no
 * file, the file read is no longer the desktop history), no shorter, and the last line read
 * unchanged. The file is read through one descriptor held from the start, so what was read and
 * what the position hashes are that file's bytes whatever happens at its path meanwhile.
 * Pull-based: `read(limit)` reads at most `limit` records, so memory is bounded by what the mirror
 * has not copied yet.
 */
export interface FileFollower {
  /** Reads up to `limit` more records; `atEnd` once every complete line was read. Throws on a bad line or a rewrite. */
  read(limit: number, onRecord: (r: FileRecord) => void): { atEnd: boolean };
  /** Byte offset just past the last line read. */
  readonly offset: number;
  readonly state: HistoryState;
  close(): void;
}

export function createFileFollower(opts: FileFollowerOptions): FileFollower {
  const path = opts.path;
  const now = opts.now ?? (() => Date.now() * 1000);
  const engine: EngineOptions = {
    policy: 'strict',
    ...(opts.cipher ? { cipher: opts.cipher, encryption: opts.cipher.format } : {}),
  };
  const state = createHistoryState(now());
  const fd = opts.fd;
  const first = fstatSync(fd);
  let offset = 0;
  let ordinal = 0;
  /** The last line read, as bytes, and where it starts: it must still be there at the next read. */
  let anchor: { start: number; bytes: Buffer } | null = null;

  const rewritten = (how: string): DomainError =>
    new DomainError(
      'FK_HISTORY_DIVERGED',
      `the desktop file '${path}' ${how} since it was read: rewritten by a repair or compaction in the desktop app? ` +
        'It is no longer the history that was copied; nothing more is copied',
    );

  function checkUnchanged(): number {
    let at;
    try {
      at = statSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A repair renames the file before it writes the new one: the file read left its path either way.
      if (code === 'ENOENT' || code === 'ENOTDIR') throw rewritten('was replaced by another file or removed');
      throw err;
    }
    if (at.dev !== first.dev || at.ino !== first.ino) throw rewritten('was replaced by another file');
    const st = fstatSync(fd);
    if (st.size < offset) throw rewritten(`shrank from ${offset} to ${st.size} bytes`);
    if (anchor !== null) {
      const now = Buffer.alloc(anchor.bytes.length);
      readSync(fd, now, 0, now.length, anchor.start);
      if (!now.equals(anchor.bytes)) throw rewritten(`changed at byte ${anchor.start} (line ${state.lineNumber})`);
    }
    return st.size;
  }

  function read(limit: number, onRecord: (r: FileRecord) => void): { atEnd: boolean } {
    const size = checkUnchanged();
    if (size === offset) return { atEnd: true };
    let count = 0;
    let lastStart = offset;
    let start = offset;
    let failure: DomainError | null = null;
    offset = readLinesFd(
      fd,
      (text, end) => {
        lastStart = start;
        start = end;
        const out = applyLine(state, text, engine, { now: now(), newId: randomUUID });
        if (out.kind === 'applied') {
          ordinal++;
          onRecord({ ordinal, record: out.record, plain: out.plain, line: state.lineNumber, end });
          count++;
        } else if (out.kind !== 'blank') {
          const why = out.kind === 'halted' || out.kind === 'skipped' ? out.error.message : out.kind;
          failure = new DomainError(
            'FK_HISTORY_INVALID',
            `the desktop file '${path}' cannot be copied: ${why}. A broker history cannot hold a line Flowkeeper's ` +
              `file rule refuses ('fk check --file ${path}' lists every problem; the desktop app's ` +
              'Settings > Connection > Repair rewrites the file)',
            { cause: out.kind === 'halted' || out.kind === 'skipped' ? out.error : undefined },
          );
          return false;
        }
        return count < limit;
      },
      { from: offset, to: size, final: false },
    );
    if (failure !== null) throw failure;
    if (offset > lastStart) {
      const bytes = Buffer.alloc(offset - lastStart);
      readSync(fd, bytes, 0, bytes.length, lastStart);
      anchor = { start: lastStart, bytes };
    }
    return { atEnd: count < limit };
  }

  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(path, { persistent: false }, () => opts.onChange());
    watcher.on('error', () => undefined); // polling goes on
  } catch {
    /* polling only */
  }
  const poll = setInterval(() => opts.onChange(), opts.pollMs ?? 1000);

  return {
    read,
    get offset() {
      return offset;
    },
    state,
    close() {
      watcher?.close();
      clearInterval(poll);
    },
  };
}

/**
 * Opens the desktop file for reading, once: `FK_INPUT_INVALID` when it cannot be read or is not a
 * regular file. The caller closes it.
 */
export function openDesktopFile(path: string): number {
  const notFile = (): InputError =>
    new InputError('FK_INPUT_INVALID', `option '--from': '${path}' is not a regular file`);
  let fd: number;
  try {
    if (!statSync(path).isFile()) throw notFile(); // before the open, which would wait on a FIFO
    fd = openSync(path, 'r');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const why = (err as Error).message;
    throw new InputError('FK_INPUT_INVALID', `option '--from': cannot read '${path}': ${why}`, { cause: err });
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw notFile();
  }
  return fd;
}
