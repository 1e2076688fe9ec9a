import type { HistoryState } from './engine';
import { markPendingList, Pending, PendingMap, SnapshotReadError, type PendingSource } from './lazyRefs';
import {
  Backlog,
  Category,
  Interruption,
  OrderedMap,
  Pomodoro,
  RefSet,
  Tag,
  Tenant,
  Timer,
  User,
  Workitem,
  WorkitemIndex,
} from './model';
import { modelSegments } from './modelSegments';

/**
 * The one place the live model is written out and read back (state snapshots, see
 * app/snapshotStore.ts). It is reflective on purpose, so that no field can escape it: every own
 * property of every object reachable from a `HistoryState` is written, whatever its name, and
 * object identity is kept (parent pointers, the timer's pomodoro, the indexes share their objects).
 * What it does not know fails loudly instead of being dropped: an object of a class not listed in
 * `CLASSES` (a new model class, an error), a function, a symbol or a bigint.
 *
 * It is read back on demand: objects are numbered and split into a header (users, timers,
 * categories, tags: what every command needs) and one segment per backlog (the backlog, its
 * workitems, pomodoros, interruptions), see modelSegments.ts. `decodeHistoryState` reads the header
 * only; a segment is read and decoded when something first reaches into it. A header property
 * that refers into a segment, or whose value is large (an index of every workitem, a tag's
 * workitems), is restored as an accessor that decodes it when first read; in it, a Map's entries
 * and an `OrderedMap`'s list stay pending one by one (lazyRefs.ts). Inside a segment, references
 * to other segments are resolved as it is decoded.
 *
 * Format (lines of JSON; offsets are in bytes from the first line):
 * 1. `{v, tags, keys, refs}`: the header objects' class letters (their numbers are 0…h-1), and
 *    each class's property names and which of them hold an object (written as its bare number);
 * 2. the state itself;
 * 3. one line per header object, the array of its values (or `{"$k":{…}}` with its names when
 *    its properties differ from its class's first object's);
 * 4. one line per large value (a slot), referred to as `{"$D":slot}`;
 * 5. one line per segment: `[tags, object…]`; in it, a reference `x` is its own object `x`,
 *    header object `-x - 1`, or object `x - count` (so a segment can be copied as it is into the
 *    next snapshot, see `encodeHistoryState`);
 * 6. the segment table: per segment, then one past the last, its first object number (counted
 *    from the header's end) and its byte offset, 7 base-36 digits each (read by probing);
 * 7. the trailer `{h, s, n, t}`: bytes of 1-3, bytes of each slot, the number of segments and the
 *    table's offset; then a last line with the trailer's offset.
 *
 * Values: JSON scalars as they are; `{"$r":i}` object `i` (a bare `i` in a property that holds
 * objects, `{"$R":[i…]}` an array of objects, `{"$M":[k,i,…]}` a Map of strings to objects);
 * `{"$L":v}` a header value decoded when read; `{"$o":{…}}` a plain object;
 * `{"$m":[[k,v]…]}` a Map; `{"$s":[…]}` a Set; arrays as arrays; `{"$n":"NaN"|"Infinity"|
 * "-Infinity"|"-0"}` and `{"$u":0}` (undefined) for what JSON cannot say.
 */
export const CLASSES: Readonly<Record<string, { prototype: object }>> = {
  T: Tenant,
  U: User,
  B: Backlog,
  W: Workitem,
  P: Pomodoro,
  I: Interruption,
  C: Category,
  G: Tag,
  M: Timer,
  O: OrderedMap,
  R: RefSet,
  X: WorkitemIndex,
};

export const MODEL_CODEC_VERSION = 2;

/** A header value whose JSON is longer than this is written as a slot, read when first used. */
const SLOT_MIN = 2048;

export class ModelCodecError extends Error {}

/** Segment-table entries read one by one before the whole table is read (a few lookups stay cheap). */
const TABLE_PROBES = 64;

/** Number `i` of a segment-table text. */
function entryNumber(text: string, i: number): number {
  const x = parseInt(text.slice(i * ENTRY_DIGITS, (i + 1) * ENTRY_DIGITS), 36);
  if (!Number.isSafeInteger(x)) throw new SnapshotReadError('snapshot segment table is damaged');
  return x;
}

/** Reads `length` bytes at `offset` of what `encodeHistoryState` wrote, as text (injected: core does no I/O). */
export type SnapshotReader = (offset: number, length: number) => string;

export const TAG_OF = new Map<object, string>(Object.entries(CLASSES).map(([tag, cls]) => [cls.prototype, tag]));

type Ref = (o: object) => number;

/** Options of `encodeHistoryState`. */
export interface EncodeOptions {
  /** Read all of a restored model and write it afresh, copying nothing (tests compare such writes). */
  readonly fresh?: boolean;
}

/** The snapshot each restored model was read from (keyed by its tenant), for `encodeHistoryState`. */
const SESSIONS = new WeakMap<object, LazySession>();

/**
 * Writes `state` as lines (see above) through `write`, one line per call, without newlines.
 *
 * A model restored from a snapshot is written from it: the segments it never read are copied as
 * they are (their objects keep their numbers, and the header keeps the old header objects at
 * theirs, dead ones too, so the copies' references hold), what it read or created is written
 * afresh with new numbers after them. A segment that refers into another segment (not only into
 * itself and the header) is read and written afresh, never copied (trailer `x`).
 */
export function encodeHistoryState(state: HistoryState, write: (line: string) => void, opts: EncodeOptions = {}): void {
  const base = opts.fresh === true ? undefined : SESSIONS.get(state.tenant);
  if (base !== undefined) base.prepareCopy();
  const { header, segments } = modelSegments(
    state,
    isModelObject,
    base === undefined ? undefined : { header: base.header, resolve: (p) => base.placed(p) },
  );
  const index = new Map<object, number>();
  const tags: string[] = [];
  const number = (o: object): void => {
    index.set(o, tags.length);
    tags.push(TAG_OF.get(Object.getPrototypeOf(o) as object) as string);
  };
  header.forEach(number);
  const h = header.length;
  /** Old segments copied, and the number of the first of their objects in this snapshot. */
  const copied = base?.unread() ?? [];
  const copiedAt = new Map<number, number>();
  let next = h;
  for (const c of copied) {
    copiedAt.set(c, next);
    next += base?.count(c) ?? 0;
  }
  /** Number of the first object of each segment written afresh (after the copied ones). */
  const firsts: number[] = [];
  for (const seg of segments) {
    firsts.push(next);
    next += seg.length;
  }
  const segTags: string[] = [];
  segments.forEach((seg, j) => {
    let i = firsts[j] as number;
    const t: string[] = [];
    for (const o of seg) {
      index.set(o, i++);
      t.push(TAG_OF.get(Object.getPrototypeOf(o) as object) as string);
    }
    segTags.push(t.join(''));
  });
  // Per class, its property names and which of them hold an object (written as its bare index);
  // a copied segment keeps the names it was written with.
  const keys: Record<string, string[]> = { ...(base?.keys ?? {}) };
  const refs: Record<string, boolean[]> = { ...(base?.refs ?? {}) };
  const learn = (o: object): void => {
    const tag = TAG_OF.get(Object.getPrototypeOf(o) as object) as string;
    if (keys[tag] !== undefined) return;
    keys[tag] = Object.keys(o);
    refs[tag] = keys[tag].map((k) => isModelObject((o as Record<string, unknown>)[k]));
  };
  header.forEach(learn);
  for (const seg of segments) seg.forEach(learn);

  /** The number of `o` (an object, or a pending reference into a copied segment) in this snapshot. */
  const numberOf = (o: object): number => {
    if (o instanceof Pending) {
      const at = base?.placed(o);
      if (at !== undefined) return numberOf(at);
      const [seg, k] = base?.where(o) ?? [-1, 0];
      const first = copiedAt.get(seg);
      if (first === undefined) throw new ModelCodecError('a reference into a segment that is not written');
      return first + k;
    }
    const i = index.get(o);
    if (i === undefined) throw new ModelCodecError('a reference to an object the model does not reach');
    return i;
  };

  let bytes = 0;
  const out = (line: string): number => {
    write(line);
    const b = Buffer.byteLength(line) + 1;
    bytes += b;
    return b;
  };
  let intoSegment = false;
  const ref: Ref = (o) => {
    const i = numberOf(o);
    if (i >= h) intoSegment = true;
    return i;
  };
  out(JSON.stringify({ v: MODEL_CODEC_VERSION, tags: tags.join(''), keys, refs }));
  out(JSON.stringify(encodeValue(state, ref, 'state', true)));
  const slots: string[] = [];
  /** A header value: as it is, or (referring into a segment, or large) decoded when read. */
  const headerValue = (v: unknown, k: string): unknown => {
    intoSegment = false;
    const e = encodeValue(v, ref, k, false);
    if (e === null || typeof e !== 'object') return e;
    const json = JSON.stringify(e);
    if (json.length > SLOT_MIN) return { $D: slots.push(json) - 1 };
    return intoSegment ? { $L: e } : e;
  };
  const headerRef = (o: object): unknown => {
    const i = numberOf(o);
    return i >= h ? { $L: i } : i;
  };
  header.forEach((o, i) => out(JSON.stringify(encodeObject(o, tags[i] as string, keys, refs, headerValue, headerRef))));
  const headerBytes = bytes;
  const slotBytes = slots.map(out);
  // The segment table: for each segment, then one past the last, its first object (counted from
  // the header's end) and its byte offset, fixed width, so that a lookup reads only what it probes.
  const table: string[] = [];
  const cross: number[] = [];
  for (const c of copied) {
    table.push(tableEntry((copiedAt.get(c) as number) - h, bytes));
    out((base as LazySession).rowText(c));
  }
  segments.forEach((seg, j) => {
    // In a segment, its own objects are numbered from 0, header objects -1, -2, …, others after its own.
    const first = firsts[j] as number;
    let outside = false;
    const local: Ref = (o) => {
      const i = numberOf(o);
      if (i >= first && i < first + seg.length) return i - first;
      if (i < h) return -i - 1;
      outside = true;
      return seg.length + i;
    };
    const plain = (v: unknown, k: string): unknown => encodeValue(v, local, k, false);
    const t = segTags[j] as string;
    const row: unknown[] = [t];
    seg.forEach((o, i) => row.push(encodeObject(o, t[i] as string, keys, refs, plain, local)));
    table.push(tableEntry(first - h, bytes));
    out(JSON.stringify(row));
    if (outside) cross.push(copied.length + j);
  });
  table.push(tableEntry(next - h, bytes));
  const tableAt = bytes;
  out(table.join(''));
  const trailerAt = bytes;
  out(JSON.stringify({ h: headerBytes, s: slotBytes, n: copied.length + segments.length, t: tableAt, x: cross }));
  out(String(trailerAt));
}

/** Width of a number in the segment table (base 36: up to 78e9). */
const ENTRY_DIGITS = 7;
const ENTRY_MAX = 36 ** ENTRY_DIGITS;

function tableEntry(first: number, offset: number): string {
  if (first >= ENTRY_MAX || offset >= ENTRY_MAX) throw new ModelCodecError('model too large for a snapshot');
  return `${first.toString(36).padStart(ENTRY_DIGITS, '0')}${offset.toString(36).padStart(ENTRY_DIGITS, '0')}`;
}

/** One object's line: its values in its class's order, or with their names when they do not fit it. */
function encodeObject(
  o: object,
  tag: string,
  keys: Record<string, string[]>,
  refs: Record<string, boolean[]>,
  value: (v: unknown, k: string) => unknown,
  ref: (o: object) => unknown,
): unknown {
  const own = Object.keys(o);
  const isRef = refs[tag] as boolean[];
  const rec = o as Record<string, unknown>;
  const fits =
    sameKeys(own, keys[tag] as string[]) &&
    own.every((k, j) => (isRef[j] ? rec[k] === null || isModelObject(rec[k]) : !isModelObject(rec[k])));
  if (fits) return own.map((k, j) => (isRef[j] ? (rec[k] === null ? null : ref(rec[k] as object)) : value(rec[k], k)));
  return { $k: Object.fromEntries(own.map((k) => [k, value(rec[k], k)])) };
}

export const isModelObject = (v: unknown): boolean =>
  v !== null && typeof v === 'object' && TAG_OF.has(Object.getPrototypeOf(v) as object);

/** A model object, or a pending reference to one (in a restored model's containers). */
const isRefLike = (v: unknown): boolean => v instanceof Pending || isModelObject(v);

interface Trailer {
  readonly h: number;
  readonly s: readonly number[];
  readonly n: number;
  readonly t: number;
  /** Segments that refer into other segments (never copied). */
  readonly x?: readonly number[];
}

/**
 * Reads back what `encodeHistoryState` wrote, `size` bytes that `read` returns: the header now,
 * each segment when first reached (see above). Throws `ModelCodecError` for what is not such a
 * snapshot; a segment that cannot be read later throws `SnapshotReadError` where it is reached.
 */
export function decodeHistoryState(read: SnapshotReader, size: number): HistoryState {
  const parse = (text: string, what: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ModelCodecError(`snapshot damaged at ${what}`);
    }
  };
  const tail = read(Math.max(0, size - 24), Math.min(size, 24));
  const lastLine = /(?:^|\n)(\d+)\n$/.exec(tail);
  if (lastLine === null) throw new ModelCodecError('snapshot ends before its trailer');
  const trailerAt = Number(lastLine[1]);
  const trailerEnd = size - (lastLine[1] as string).length - 1;
  if (!(trailerAt < trailerEnd)) throw new ModelCodecError('snapshot ends before its trailer');
  const trailer = parse(read(trailerAt, trailerEnd - trailerAt), 'its trailer') as Partial<Trailer>;
  if (
    typeof trailer.h !== 'number' ||
    !Array.isArray(trailer.s) ||
    !Number.isSafeInteger(trailer.n) ||
    typeof trailer.t !== 'number'
  )
    throw new ModelCodecError('snapshot of another format');
  if (trailer.t + ((trailer.n as number) + 1) * 2 * ENTRY_DIGITS + 1 !== trailerAt)
    throw new ModelCodecError('snapshot trailer does not match its size');
  const lines = read(0, trailer.h).split('\n');
  const head = parse(lines[0] ?? '', 'its header') as {
    v?: unknown;
    tags?: unknown;
    keys?: Record<string, string[]>;
    refs?: Record<string, boolean[]>;
  };
  if (head.v !== MODEL_CODEC_VERSION || typeof head.tags !== 'string')
    throw new ModelCodecError('snapshot of another format');
  if (lines.length !== head.tags.length + 3) throw new ModelCodecError('snapshot header does not match its objects');
  const session = new LazySession(read, head.keys ?? {}, head.refs ?? {}, trailer as Trailer);
  const header = head.tags.split('').map((t) => shell(t));
  session.header = header;
  const state = session.decodeValue(parse(lines[1] as string, 'the state'), null) as HistoryState;
  for (let i = 0; i < header.length; i++) {
    session.fill(header[i] as object, head.tags[i] as string, parse(lines[i + 2] as string, `object ${i}`), true);
  }
  SESSIONS.set(state.tenant, session);
  return state;
}

function shell(tag: string): object {
  const cls = CLASSES[tag];
  if (cls === undefined) throw new ModelCodecError(`unknown class '${tag}'`);
  return Object.create(cls.prototype) as object;
}

/** One restored snapshot: its header objects, the segments read so far, and how to read the others. */
class LazySession implements PendingSource {
  header: object[] = [];
  /** While a segment is decoded: its numbering of objects (see `readSegment`). */
  private ctx: ((x: number) => object) | null = null;
  /** Set once a segment failed to read: the snapshot is not read any further. */
  private broken: SnapshotReadError | null = null;
  /** Objects of each segment read (or being read): undefined until then. */
  private readonly segments: Array<object[] | undefined>;
  /** Byte offset of each slot. */
  private readonly slotAt: number[] = [];
  /** The segment table, once read whole (after `TABLE_PROBES` single entries were read). */
  private table: Float64Array | null = null;
  private probes = 0;
  /** The segment last found, and its first and one-past-last object (from the header's end). */
  private last = -1;
  private lastFirst = 0;
  private lastEnd = 0;

  constructor(
    private readonly read: SnapshotReader,
    readonly keys: Record<string, string[]>,
    readonly refs: Record<string, boolean[]>,
    private readonly trailer: Trailer,
  ) {
    let at = trailer.h;
    for (const b of trailer.s) {
      this.slotAt.push(at);
      at += b;
    }
    this.segments = new Array<object[] | undefined>(trailer.n);
  }

  /** Entry `k` of the segment table: [first object, byte offset] (`2 * k`, `2 * k + 1` of the whole table). */
  private entry(k: number): [number, number] {
    if (this.table === null && ++this.probes > TABLE_PROBES) {
      const text = this.read(this.trailer.t, (this.trailer.n + 1) * 2 * ENTRY_DIGITS);
      const table = new Float64Array((this.trailer.n + 1) * 2);
      for (let i = 0; i < table.length; i++) table[i] = entryNumber(text, i);
      this.table = table;
    }
    if (this.table !== null) return [this.table[2 * k] as number, this.table[2 * k + 1] as number];
    const text = this.read(this.trailer.t + k * 2 * ENTRY_DIGITS, 2 * ENTRY_DIGITS);
    return [entryNumber(text, 0), entryNumber(text, 1)];
  }

  /** The segment holding object `j` (counted from the header's end). */
  private find(j: number): number {
    if (j >= this.lastFirst && j < this.lastEnd) return this.last;
    const [total] = this.entry(this.trailer.n);
    if (!Number.isInteger(j) || j < 0 || j >= total)
      throw new SnapshotReadError(`snapshot refers to object ${j + this.header.length}, which it does not hold`);
    let lo = 0;
    let hi = this.trailer.n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.entry(mid)[0] <= j) lo = mid;
      else hi = mid - 1;
    }
    this.last = lo;
    this.lastFirst = this.entry(lo)[0];
    this.lastEnd = this.entry(lo + 1)[0];
    return lo;
  }

  /** Object `i`, reading its segment if need be. */
  deref(i: number): object {
    const h = this.header.length;
    if (i < h) return this.header[i] as object;
    const s = this.find(i - h);
    const first = this.lastFirst;
    return (this.segment(s) as object[])[i - h - first] as object;
  }

  /**
   * Before writing a snapshot from this one: reads every late header value (so that writing reads
   * nothing more, and knows which segments it never read) and the segments that are never copied.
   */
  prepareCopy(): void {
    if (this.broken !== null) throw this.broken;
    for (const o of this.header) for (const k of Object.keys(o)) void (o as Record<string, unknown>)[k];
    for (const s of this.trailer.x ?? []) this.segment(s);
  }

  /** The object `p` stands for if its segment was read (no reading), else undefined. */
  placed(p: Pending): object | undefined {
    if (p.source !== this) throw new ModelCodecError('a reference into another snapshot');
    if (p.index < this.header.length) return this.header[p.index];
    const [s, k] = this.where(p);
    return this.segments[s]?.[k];
  }

  /** The segment of `p` and its place in it. */
  where(p: Pending): [number, number] {
    const s = this.find(p.index - this.header.length);
    return [s, p.index - this.header.length - this.lastFirst];
  }

  /** The segments never read, in order. */
  unread(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.trailer.n; s++) if (this.segments[s] === undefined) out.push(s);
    return out;
  }

  /** Objects of segment `s`. */
  count(s: number): number {
    return this.entry(s + 1)[0] - this.entry(s)[0];
  }

  /** The line of segment `s`, as it is in the file. */
  rowText(s: number): string {
    const [, at] = this.entry(s);
    const [, next] = this.entry(s + 1);
    const text = this.read(at, next - at);
    if (!text.endsWith('\n')) throw new SnapshotReadError(`snapshot segment ${s} is damaged`);
    return text.slice(0, -1);
  }

  /** A reference to object `i`: a header object, else a `Pending` one (resolved when used). */
  private lazyRef(i: number): unknown {
    return i < this.header.length ? this.header[i] : new Pending(this, i);
  }

  private segment(s: number): object[] {
    const done = this.segments[s];
    if (done !== undefined) return done;
    if (this.broken !== null) throw this.broken;
    try {
      return this.readSegment(s);
    } catch (err) {
      // A segment may be half filled, and others read through it: nothing more is read from this
      // snapshot, every later reach into it fails the same way.
      this.broken =
        err instanceof SnapshotReadError ? err : new SnapshotReadError(`snapshot segment ${s}: ${String(err)}`);
      throw this.broken;
    }
  }

  private readSegment(s: number): object[] {
    let row: unknown;
    let count: number;
    try {
      const [first, at] = this.entry(s);
      const [end, next] = this.entry(s + 1);
      count = end - first;
      row = JSON.parse(this.read(at, next - at));
    } catch (err) {
      if (err instanceof SnapshotReadError) throw err;
      throw new SnapshotReadError(`snapshot segment ${s} is damaged`, { cause: err });
    }
    if (!Array.isArray(row) || typeof row[0] !== 'string' || row[0].length !== count || row.length !== count + 1)
      throw new SnapshotReadError(`snapshot segment ${s} does not match its trailer`);
    const tags = row[0];
    const objects = tags.split('').map((t) => shell(t));
    this.segments[s] = objects; // before filling: a segment may refer back into itself
    // In a segment, `x` is its own object `x`, header object `-x - 1`, or object `x - count`.
    const local = (x: number): object => {
      const o = x < 0 ? this.header[-x - 1] : x < count ? objects[x] : this.deref(x - count);
      if (o === undefined) throw new SnapshotReadError(`snapshot segment ${s} refers to ${x}, which it does not hold`);
      return o;
    };
    const outer = this.ctx;
    this.ctx = local;
    try {
      for (let i = 0; i < count; i++) this.fill(objects[i] as object, tags[i] as string, row[i + 1], false);
    } finally {
      this.ctx = outer;
    }
    return objects;
  }

  /** Sets the properties of `o` from its line; in the header, values into segments become accessors. */
  fill(o: object, tag: string, e: unknown, inHeader: boolean): void {
    const rec = o as Record<string, unknown>;
    if (Array.isArray(e)) {
      const names = this.keys[tag];
      const isRef = this.refs[tag];
      if (names === undefined || isRef === undefined || names.length !== e.length)
        throw new ModelCodecError(`an object of class '${tag}' does not match its class`);
      for (let j = 0; j < e.length; j++) {
        const x: unknown = e[j];
        const k = names[j] as string;
        if (!isRef[j] || (x !== null && typeof x === 'object')) this.setValue(rec, k, x, inHeader);
        else rec[k] = x === null ? null : this.ref(x as number);
      }
    } else {
      const named = (e as { $k?: Record<string, unknown> } | null)?.$k;
      if (named === undefined || named === null) throw new ModelCodecError(`an object of class '${tag}' is damaged`);
      for (const k of Object.keys(named)) this.setValue(rec, k, named[k], inHeader);
    }
  }

  private setValue(rec: Record<string, unknown>, k: string, x: unknown, inHeader: boolean): void {
    if (inHeader && x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const w = x as { $L?: unknown; $D?: unknown };
      if (w.$L !== undefined) return this.defineLazy(rec, k, () => this.lateValue(rec, k, w.$L));
      if (typeof w.$D === 'number') {
        const slot = w.$D;
        return this.defineLazy(rec, k, () => this.lateValue(rec, k, this.readSlot(slot)));
      }
    }
    rec[k] = this.decodeValue(x, null);
  }

  private readSlot(slot: number): unknown {
    if (this.broken !== null) throw this.broken;
    const at = this.slotAt[slot];
    const bytes = this.trailer.s[slot];
    if (at === undefined || bytes === undefined) throw new SnapshotReadError(`snapshot has no slot ${slot}`);
    try {
      return JSON.parse(this.read(at, bytes)) as unknown;
    } catch (err) {
      if (err instanceof SnapshotReadError) throw err;
      throw new SnapshotReadError(`snapshot slot ${slot} is damaged`, { cause: err });
    }
  }

  /** `k` of `rec` reads as `make()` the first time, and is a plain property from then on. */
  private defineLazy(rec: Record<string, unknown>, k: string, make: () => unknown): void {
    const plain = (value: unknown): void => {
      Object.defineProperty(rec, k, { value, writable: true, enumerable: true, configurable: true });
    };
    Object.defineProperty(rec, k, {
      configurable: true,
      enumerable: true,
      get() {
        const v = make();
        plain(v);
        return v;
      },
      set: plain,
    });
  }

  /** A header value read late: a ref (a number) or an encoded value, whose Maps and lists may stay pending. */
  private lateValue(rec: Record<string, unknown>, k: string, x: unknown): unknown {
    const outer = this.ctx;
    this.ctx = null; // header numbers
    try {
      if (typeof x === 'number') return this.deref(x);
      const lazyList = rec instanceof OrderedMap && k === 'list';
      return this.decodeValue(x, lazyList ? 'list' : 'late');
    } finally {
      this.ctx = outer;
    }
  }

  /** Object `x` as the line being decoded numbers it (a segment's own numbering, else the global one). */
  private ref(x: number): object {
    return this.ctx === null ? this.deref(x) : this.ctx(x);
  }

  /**
   * `lazy`: null in a segment or the eager header (references read their segment now); 'late' for
   * a header value read when used (a Map's entries may stay pending); 'list' for an OrderedMap's list.
   */
  decodeValue(v: unknown, lazy: 'late' | 'list' | null): unknown {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = this.decodeValue(v[i], null);
      return v;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.$r === 'number') return this.ref(o.$r);
    if (o.$R !== undefined) {
      const list = o.$R as unknown[];
      let pending = false;
      for (let i = 0; i < list.length; i++) {
        const x = lazy === 'list' ? this.lazyRef(list[i] as number) : this.ref(list[i] as number);
        pending ||= x instanceof Pending;
        list[i] = x;
      }
      if (pending) markPendingList(list);
      return list;
    }
    if (o.$M !== undefined) {
      const flat = o.$M as unknown[];
      const entries: Array<[unknown, unknown]> = [];
      for (let i = 0; i < flat.length; i += 2) {
        const x = flat[i + 1] as number;
        entries.push([flat[i], lazy === null ? this.ref(x) : this.lazyRef(x)]);
      }
      return PendingMap.of(entries);
    }
    if (o.$o !== undefined) {
      const inner = o.$o as Record<string, unknown>;
      for (const k of Object.keys(inner)) inner[k] = this.decodeValue(inner[k], null);
      return inner;
    }
    if (o.$m !== undefined)
      return new Map(
        (o.$m as Array<[unknown, unknown]>).map(([k, x]) => [this.decodeValue(k, null), this.decodeValue(x, null)]),
      );
    if (o.$s !== undefined) return new Set((o.$s as unknown[]).map((x) => this.decodeValue(x, null)));
    if (o.$n !== undefined) return o.$n === '-0' ? -0 : Number(o.$n);
    if (o.$u !== undefined) return undefined;
    throw new ModelCodecError(`unknown value ${JSON.stringify(v).slice(0, 40)}`);
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

function encodeValue(v: unknown, ref: Ref, path: string, root: boolean): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? v : { $n: Object.is(v, -0) ? '-0' : String(v) };
    case 'undefined':
      return { $u: 0 };
    case 'object': {
      if (v === null) return null;
      const proto = Object.getPrototypeOf(v) as object | null;
      if (!root && (TAG_OF.has(proto as object) || v instanceof Pending)) return { $r: ref(v) };
      if (Array.isArray(v)) {
        if (v.length > 0 && v.every(isRefLike)) return { $R: v.map((x: object) => ref(x)) };
        return v.map((x, i) => encodeValue(x, ref, `${path}[${i}]`, false));
      }
      // (as the Map holds them: pending entries of a restored model are written as references)
      const entries = v instanceof Map ? [...Map.prototype.entries.call(v)] : [];
      if (v instanceof Map && v.size > 0 && entries.every(([k, x]) => typeof k === 'string' && isRefLike(x))) {
        return { $M: entries.flatMap(([k, x]) => [k, ref(x as object)]) };
      }
      if (v instanceof Map)
        return { $m: entries.map(([k, x]) => [encodeValue(k, ref, path, false), encodeValue(x, ref, path, false)]) };
      if (v instanceof Set) return { $s: [...v].map((x) => encodeValue(x, ref, path, false)) };
      if (proto === Object.prototype) {
        const o = v as Record<string, unknown>;
        return {
          $o: Object.fromEntries(Object.keys(o).map((k) => [k, encodeValue(o[k], ref, `${path}.${k}`, false)])),
        };
      }
      throw new ModelCodecError(
        `cannot write ${(proto as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'an object'} ` +
          `at ${path}`,
      );
    }
    default:
      throw new ModelCodecError(`cannot write a ${typeof v} at ${path}`);
  }
}
