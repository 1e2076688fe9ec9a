import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Bytes read at a time; a longer line grows the buffer to fit it. */
export const CHUNK_BYTES = 1 << 20;

const LF = 0x0a;
const CR = 0x0d;

/** Gets a line (without its terminator) and the offset just past it; returning `false` stops the read. */
export type LineSink = (text: string, end: number) => unknown;

export interface ReadLinesOptions {
  /** Byte offset to start at (the start of a line). @default 0 */
  readonly from?: number;
  /** Byte offset to stop at. @default the file's size when the read starts */
  readonly to?: number;
  /** Deliver an unterminated last line too (the file is complete, not being appended to). @default true */
  readonly final?: boolean;
  readonly chunkBytes?: number;
}

/**
 * Reads the lines of an open file chunk by chunk, so memory is bounded by the longest line, not
 * by the file: `onLine(text, end)` gets each line without its terminator and the byte offset just
 * past it. Lines end at `\n`, `\r\n` or `\r` (Python's universal newlines, as Flowkeeper reads
 * its file), also when a terminator straddles two chunks. Returns the offset just past the last
 * line delivered: where the next read of an appended-to file starts.
 */
export function readLinesFd(fd: number, onLine: LineSink, opts: ReadLinesOptions = {}): number {
  const reader = createLineReader(fd, onLine, opts);
  while (reader.step());
  return reader.end();
}

/**
 * Bytes per chunk of `linesOfFd`: a chunk's lines are all held while the consumer works through
 * them, so they must be few enough to die in V8's young generation (1 MB under the bin's
 * `--max-semi-space-size=1`). With 1 MB chunks, ~7,500 line strings outlived every scavenge and
 * were copied and promoted: 100k lines, GC time 270 -> 157 ms, peak RSS 110 -> 105 MiB.
 */
const ITERATED_CHUNK_BYTES = 1 << 14;

/**
 * The lines of an open file as an iterable of strings, read one chunk at a time as it is
 * consumed (for `replay(lines)`): only the current chunk's lines are held.
 */
export function linesOfFd(fd: number, opts: ReadLinesOptions = {}): Iterable<string> {
  return {
    [Symbol.iterator](): Iterator<string> {
      let batch: string[] = [];
      let at = 0;
      let more = true;
      const reader = createLineReader(fd, (text) => batch.push(text), { chunkBytes: ITERATED_CHUNK_BYTES, ...opts });
      // One result object, refilled: a `for…of` reads it before asking for the next (a generator
      // made two per line, `yield*` over the batch's own iterator).
      const result = { done: false, value: '' };
      return {
        next(): IteratorResult<string> {
          while (at === batch.length) {
            if (!more) return { done: true, value: undefined };
            batch = [];
            at = 0;
            more = reader.step();
          }
          result.value = batch[at++] as string;
          return result;
        },
      };
    },
  };
}

/** One chunk per `step()` (false once the file or `to` is reached); `end()`: offset past the last line. */
function createLineReader(
  fd: number,
  onLine: LineSink,
  opts: ReadLinesOptions,
): { step(): boolean; end(): number } {
  const to = opts.to ?? fstatSync(fd).size;
  const from = opts.from ?? 0;
  let buf = Buffer.allocUnsafe(Math.max(1, Math.min(opts.chunkBytes ?? CHUNK_BYTES, to - from)));
  /** File offset of buf[0]. */
  let base = from;
  let filled = 0;
  let pos = from;
  let delivered = from;
  let done = false;
  const step = (): boolean => {
    if (done) return false;
    if (filled === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, filled);
      buf = bigger;
    }
    const n = pos < to ? readSync(fd, buf, filled, Math.min(buf.length - filled, to - pos), pos) : 0;
    pos += n;
    filled += n;
    const more = n > 0 && pos < to;
    let start = 0;
    const scan = scanner(buf, filled);
    for (let i = scan(0); i < filled; i = scan(i)) {
      let next = i + 1;
      if (buf[i] === CR) {
        if (next === filled && more) break; // a `\r\n` may straddle the chunks: decide with the next one
        if (buf[next] === LF && next < filled) next++;
      }
      const stop = onLine(buf.toString('utf8', start, i), base + next) === false;
      delivered = base + next;
      start = next;
      if (stop) {
        done = true;
        return false;
      }
      i = next;
    }
    if (n === 0) {
      if ((opts.final ?? true) && start < filled) {
        onLine(buf.toString('utf8', start, filled), base + filled);
        delivered = base + filled;
      }
      done = true;
      return false;
    }
    buf.copy(buf, 0, start, filled);
    base += start;
    filled -= start;
    return true;
  };
  return { step, end: () => delivered };
}

/**
 * `scan(from)`: the index of the next `\n` or `\r` in buf[from, end), or `end`. Native searches
 * (memchr), and the `\r` search is remembered, since most files have none.
 */
function scanner(buf: Buffer, end: number): (from: number) => number {
  let cr = -1;
  let crDone = false;
  return (from) => {
    if (!crDone && cr < from) {
      cr = buf.indexOf(CR, from);
      if (cr < 0 || cr >= end) crDone = true;
    }
    let lf = buf.indexOf(LF, from);
    if (lf < 0 || lf > end) lf = end;
    return !crDone && cr < lf ? cr : lf;
  };
}

/** `readLinesFd` on a path (opened read-only, closed after). */
export function readLines(path: string, onLine: LineSink, opts: ReadLinesOptions = {}): number {
  const fd = openSync(path, 'r');
  try {
    return readLinesFd(fd, onLine, opts);
  } finally {
    closeSync(fd);
  }
}

/** The first line of a file that holds a record (not blank, not a `#` comment), or null. */
export function firstRecordLine(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    return firstRecordLineFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** `firstRecordLine` of an open file. */
export function firstRecordLineFd(fd: number): string | null {
  let first: string | null = null;
  readLinesFd(fd, (text) => {
    if (text.trim() === '' || text.startsWith('#')) return true;
    first = text;
    return false;
  });
  return first;
}

/** Whether any line of the file starts with `prefix` (one ASCII character), without decoding it. */
export function anyLineStartsWith(path: string, prefix: string): boolean {
  const code = prefix.charCodeAt(0);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let prev = LF;
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return false;
      if (buf[0] === code && (prev === LF || prev === CR)) return true;
      for (let i = buf.indexOf(code, 1); i >= 0 && i < n; i = buf.indexOf(code, i + 1)) {
        if (buf[i - 1] === LF || buf[i - 1] === CR) return true;
      }
      prev = buf[n - 1] as number;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}
