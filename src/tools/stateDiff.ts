import type { Micros } from '../core/clock';
import { USERS_KEY, backlogKey, categoryKey, orderKey, tagKey, timerKey, userKey, workitemKey } from './compactKeys';
import { parseInstant } from '../core/engine/time';

/**
 * Where two canonical states (canonical.ts objects) differ, by state key (compactKeys.ts).
 * `lmOnly`: only `last_modified_date` differs, with both values given; otherwise something else
 * (a name, a date, a list, a missing entity) differs.
 */
export interface KeyDiff {
  readonly lmOnly: boolean;
  readonly orig: Micros | null;
  readonly cand: Micros | null;
}

type Obj = { readonly [k: string]: unknown };

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const objs = (v: unknown): Obj[] => arr(v).filter(isObj);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const when = (v: unknown): Micros | null => (typeof v === 'string' ? parseInstant(v) : null);

/** Deep equality of JSON values (canonical objects: plain data only). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (!isObj(a) || !isObj(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!(k in b) || !jsonEqual(a[k], b[k])) return false;
  return true;
}

class Diffs {
  readonly map = new Map<string, KeyDiff>();
  other(key: string): void {
    this.map.set(key, { lmOnly: false, orig: null, cand: null });
  }
  lm(key: string, a: Obj, b: Obj): void {
    if (a.last_modified_date === b.last_modified_date || this.map.has(key)) return;
    this.map.set(key, { lmOnly: true, orig: when(a.last_modified_date), cand: when(b.last_modified_date) });
  }
  /** Compares `a` and `b` without the fields in `skip`; a difference marks `key` other, then `lm` is compared. */
  entity(key: string, a: Obj, b: Obj, skip: readonly string[]): void {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (k === 'last_modified_date' || skip.includes(k)) continue;
      if (!jsonEqual(a[k], b[k])) {
        this.other(key);
        return;
      }
    }
    this.lm(key, a, b);
  }
  lists(
    key: string,
    a: readonly Obj[],
    b: readonly Obj[],
    id: string,
  ): Map<string, [Obj | undefined, Obj | undefined]> {
    const ids = (xs: readonly Obj[]): string[] => xs.map((x) => str(x[id]));
    if (!jsonEqual(ids(a), ids(b))) this.other(orderKey(key));
    const both = new Map<string, [Obj | undefined, Obj | undefined]>();
    for (const x of a) both.set(str(x[id]), [x, undefined]);
    for (const y of b) both.set(str(y[id]), [both.get(str(y[id]))?.[0], y]);
    return both;
  }
}

function flattenCategories(root: unknown, out = new Map<string, Obj>()): Map<string, Obj> {
  if (!isObj(root)) return out;
  out.set(str(root.uid), root);
  for (const c of objs(root.children)) flattenCategories(c, out);
  return out;
}

function workitemsOf(user: Obj): Map<string, Obj> {
  const out = new Map<string, Obj>();
  for (const b of objs(user.backlogs)) for (const w of objs(b.workitems)) out.set(str(w.uid), w);
  return out;
}

function pairs(a: Map<string, Obj>, b: Map<string, Obj>): Array<[string, Obj | undefined, Obj | undefined]> {
  return [...new Set([...a.keys(), ...b.keys()])].map((k) => [k, a.get(k), b.get(k)]);
}

function diffUser(d: Diffs, id: string, a: Obj, b: Obj): void {
  d.entity(userKey(id), a, b, ['backlogs', 'categories', 'tags', 'timer']);
  for (const [uid, [x, y]] of d.lists(userKey(id), objs(a.backlogs), objs(b.backlogs), 'uid')) {
    const key = backlogKey(id, uid);
    if (!x || !y) d.other(key);
    else {
      d.entity(key, x, y, ['workitems']);
      d.lists(key, objs(x.workitems), objs(y.workitems), 'uid');
    }
  }
  for (const [uid, x, y] of pairs(workitemsOf(a), workitemsOf(b))) {
    if (!x || !y) d.other(workitemKey(id, uid));
    else d.entity(workitemKey(id, uid), x, y, []);
  }
  for (const [uid, x, y] of pairs(flattenCategories(a.categories), flattenCategories(b.categories))) {
    const key = categoryKey(id, uid);
    if (!x || !y) d.other(key);
    else {
      d.entity(key, x, y, ['children']);
      d.lists(key, objs(x.children), objs(y.children), 'uid');
    }
  }
  const tags = (u: Obj): Map<string, Obj> => new Map(objs(u.tags).map((t) => [str(t.uid), t]));
  for (const [uid, x, y] of pairs(tags(a), tags(b))) {
    if (!x || !y) d.other(tagKey(id, uid));
    else d.entity(tagKey(id, uid), x, y, []);
  }
  if (isObj(a.timer) && isObj(b.timer)) d.entity(timerKey(id), a.timer, b.timer, []);
  else if (!jsonEqual(a.timer, b.timer)) d.other(timerKey(id));
}

/** Every state key whose canonical content differs between `orig` and `cand` (top-level `last_seq` ignored). */
export function diffStates(orig: unknown, cand: unknown): Map<string, KeyDiff> {
  const d = new Diffs();
  const users = (s: unknown): Map<string, Obj> =>
    new Map(objs(isObj(s) ? s.users : []).map((u) => [str(u.identity), u]));
  const ua = users(orig);
  const ub = users(cand);
  if (!jsonEqual([...ua.keys()], [...ub.keys()])) d.other(USERS_KEY);
  for (const [id, a, b] of pairs(ua, ub)) {
    if (!a || !b) d.other(userKey(id));
    else diffUser(d, id, a, b);
  }
  return d.map;
}
