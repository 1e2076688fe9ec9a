import type { HistoryState } from './engine';
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

/**
 * The one place the live model is written out and read back (state snapshots, see
 * app/snapshotStore.ts). It is reflective on purpose, so that no field can escape it: every own
 * property of every object reachable from a `HistoryState` is written, whatever its name, and
 * object identity is kept (parent pointers, the timer's pomodoro, the indexes share their objects).
 * What it does not know fails loudly instead of being dropped: an object of a class not listed in
 * `CLASSES` (a new model class, an error), a function, a symbol or a bigint.
 *
 * Format (one JSON value per line, so neither side ever holds one huge string): a header with the
 * class letter of every object in index order and each class's property names (`keys`), then the
 * state itself, then one line per object, as the array of its values; an object whose
 * properties differ from its class's first object is written with its names.
 *
 * Values: JSON scalars as they are; `{"$r":i}` object `i` (a bare `i` in a property that holds
 * objects, `{"$R":[i…]}` an array of objects, `{"$M":[k,i,…]}` a Map of strings to objects);
 * `{"$o":{…}}` a plain object;
 * `{"$m":[[k,v]…]}` a Map; `{"$s":[…]}` a Set; arrays as arrays; `{"$n":"NaN"|"Infinity"|
 * "-Infinity"|"-0"}` and `{"$u":0}` (undefined) for what JSON cannot say.
 */
const CLASSES: Readonly<Record<string, { prototype: object }>> = {
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

export const MODEL_CODEC_VERSION = 1;

export class ModelCodecError extends Error {}

const TAG_OF = new Map<object, string>(Object.entries(CLASSES).map(([tag, cls]) => [cls.prototype, tag]));

/** Writes `state` as lines (see above) through `write`, one line per call, without newlines. */
export function encodeHistoryState(state: HistoryState, write: (line: string) => void): void {
  const objects: object[] = [];
  const index = new Map<object, number>();
  const tags: string[] = [];
  const visit = (v: unknown, path: string): void => {
    if (v === null || typeof v !== 'object') return;
    const tag = TAG_OF.get(Object.getPrototypeOf(v) as object);
    if (tag !== undefined) {
      if (index.has(v)) return;
      index.set(v, objects.length);
      objects.push(v);
      tags.push(tag);
    }
    for (const [k, x] of children(v, path)) visit(x, k);
  };
  visit(state, 'state');
  // Per class, its property names and which of them hold an object (written as its bare index).
  const keys: Record<string, string[]> = {};
  const refs: Record<string, boolean[]> = {};
  objects.forEach((o, i) => {
    const tag = tags[i] as string;
    if (keys[tag] !== undefined) return;
    keys[tag] = Object.keys(o);
    refs[tag] = keys[tag].map((k) => isModelObject((o as Record<string, unknown>)[k]));
  });
  const ref = (o: object): number => index.get(o) as number;
  write(JSON.stringify({ v: MODEL_CODEC_VERSION, tags: tags.join(''), keys, refs }));
  write(JSON.stringify(encodeValue(state, ref, 'state', true)));
  objects.forEach((o, i) => {
    const tag = tags[i] as string;
    const own = Object.keys(o);
    const isRef = refs[tag] as boolean[];
    const rec = o as Record<string, unknown>;
    const fits =
      sameKeys(own, keys[tag] as string[]) &&
      own.every((k, j) => (isRef[j] ? rec[k] === null || isModelObject(rec[k]) : !isModelObject(rec[k])));
    if (fits) {
      write(
        JSON.stringify(
          own.map((k, j) =>
            isRef[j] ? (rec[k] === null ? null : ref(rec[k] as object)) : encodeValue(rec[k], ref, k, false),
          ),
        ),
      );
    } else {
      write(JSON.stringify({ $k: Object.fromEntries(own.map((k) => [k, encodeValue(rec[k], ref, k, false)])) }));
    }
  });
}

const isModelObject = (v: unknown): boolean =>
  v !== null && typeof v === 'object' && TAG_OF.has(Object.getPrototypeOf(v) as object);

/** Reads back what `encodeHistoryState` wrote; `lines` must yield its lines in order. */
export function decodeHistoryState(lines: Iterable<string>): HistoryState {
  const it = lines[Symbol.iterator]();
  const next = (what: string): unknown => {
    const r = it.next();
    if (r.done === true) throw new ModelCodecError(`snapshot ends before ${what}`);
    return JSON.parse(r.value) as unknown;
  };
  const head = next('its header') as {
    v?: unknown;
    tags?: unknown;
    keys?: Record<string, string[]>;
    refs?: Record<string, boolean[]>;
  };
  if (head.v !== MODEL_CODEC_VERSION || typeof head.tags !== 'string')
    throw new ModelCodecError('snapshot of another format');
  const tags = head.tags;
  const keys = head.keys ?? {};
  const refs = head.refs ?? {};
  const objects: object[] = [];
  for (let i = 0; i < tags.length; i++) {
    const cls = CLASSES[tags[i] as string];
    if (cls === undefined) throw new ModelCodecError(`unknown class '${tags[i]}'`);
    objects.push(Object.create(cls.prototype) as object);
  }
  const deref = (i: number): object => {
    const o = objects[i];
    if (o === undefined) throw new ModelCodecError(`reference to object ${i} of ${objects.length}`);
    return o;
  };
  const state = decodeValue(next('the state'), deref) as HistoryState;
  for (let i = 0; i < objects.length; i++) {
    const e = next(`object ${i}`);
    const o = objects[i] as Record<string, unknown>;
    if (Array.isArray(e)) {
      const names = keys[tags[i] as string];
      const isRef = refs[tags[i] as string];
      if (names === undefined || isRef === undefined || names.length !== e.length)
        throw new ModelCodecError(`object ${i} does not match its class`);
      for (let j = 0; j < e.length; j++) {
        const x: unknown = e[j];
        o[names[j] as string] = isRef[j] ? (x === null ? null : deref(x as number)) : decodeValue(x, deref);
      }
    } else {
      for (const [k, v] of Object.entries((e as { $k: Record<string, unknown> }).$k)) o[k] = decodeValue(v, deref);
    }
  }
  if (it.next().done !== true) throw new ModelCodecError('snapshot goes on after its last object');
  return state;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

/** The values held directly by `v` (not what they hold), with a path for messages. */
function children(v: object, path: string): Array<[string, unknown]> {
  if (Array.isArray(v)) return v.map((x, i) => [`${path}[${i}]`, x]);
  if (v instanceof Map)
    return [...v].flatMap(([k, x]) => [[`${path} key`, k] as [string, unknown], [`${path}.get(${String(k)})`, x]]);
  if (v instanceof Set) return [...v].map((x) => [`${path} item`, x]);
  return Object.keys(v).map((k) => [`${path}.${k}`, (v as Record<string, unknown>)[k]]);
}

function encodeValue(v: unknown, ref: (o: object) => number, path: string, root: boolean): unknown {
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
      if (!root && TAG_OF.has(proto as object)) return { $r: ref(v) };
      if (Array.isArray(v)) {
        if (v.length > 0 && v.every(isModelObject)) return { $R: v.map((x: object) => ref(x)) };
        return v.map((x, i) => encodeValue(x, ref, `${path}[${i}]`, false));
      }
      if (v instanceof Map && v.size > 0 && [...v].every(([k, x]) => typeof k === 'string' && isModelObject(x))) {
        return { $M: [...v].flatMap(([k, x]) => [k, ref(x as object)]) };
      }
      if (v instanceof Map)
        return { $m: [...v].map(([k, x]) => [encodeValue(k, ref, path, false), encodeValue(x, ref, path, false)]) };
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

/** Decodes in place where it can (arrays, plain objects): the parsed JSON is not needed after. */
function decodeValue(v: unknown, deref: (i: number) => object): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = decodeValue(v[i], deref);
    return v;
  }
  const o = v as Record<string, unknown>;
  if (typeof o.$r === 'number') return deref(o.$r);
  if (o.$R !== undefined) {
    const refs = o.$R as unknown[];
    for (let i = 0; i < refs.length; i++) refs[i] = deref(refs[i] as number);
    return refs;
  }
  if (o.$M !== undefined) {
    const flat = o.$M as unknown[];
    const m = new Map<unknown, unknown>();
    for (let i = 0; i < flat.length; i += 2) m.set(flat[i], deref(flat[i + 1] as number));
    return m;
  }
  if (o.$o !== undefined) {
    const inner = o.$o as Record<string, unknown>;
    for (const k of Object.keys(inner)) inner[k] = decodeValue(inner[k], deref);
    return inner;
  }
  if (o.$m !== undefined)
    return new Map((o.$m as Array<[unknown, unknown]>).map(([k, x]) => [decodeValue(k, deref), decodeValue(x, deref)]));
  if (o.$s !== undefined) return new Set((o.$s as unknown[]).map((x) => decodeValue(x, deref)));
  if (o.$n !== undefined) return o.$n === '-0' ? -0 : Number(o.$n);
  if (o.$u !== undefined) return undefined;
  throw new ModelCodecError(`unknown value ${JSON.stringify(v).slice(0, 40)}`);
}
