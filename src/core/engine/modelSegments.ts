import type { HistoryState } from './engine';
import { Pending, resolveList } from './lazyRefs';
import { Backlog, Interruption, Pomodoro, Workitem } from './model';

/** Where a segment ends when walking from the header: the backlog starts one, its contents are in it. */
const SEGMENT_CLASSES = new Set<object>([Workitem.prototype, Pomodoro.prototype, Interruption.prototype]);

/**
 * Splits the model's objects reachable from `state` (`isModelObject`: of the codec's classes) into
 * a header and one segment per backlog, each in the order a walk first reaches them (the order is
 * part of the format: the same model always splits the same way). The walk reads every property,
 * Map and list, so it also reads in whatever of a restored model was still pending.
 *
 * 1. The header: what is reachable from the state without passing a backlog, workitem, pomodoro
 *    or interruption (tenant, users, timers, categories, tags, the indexes and their containers).
 * 2. One segment per backlog the header reaches, in that order: the backlog and what it reaches
 *    that is not taken yet, but not another such backlog (its own segment follows).
 * 3. What is left (a workitem that only an index or a category still holds, the timer's
 *    deleted pomodoro) joins the header: it is rare, and read with it.
 */
export function modelSegments(
  state: HistoryState,
  isModelObject: (v: object) => boolean,
  base?: SegmentBase,
): { header: object[]; segments: object[][] } {
  const taken = new Set<object>(base?.header);
  const header: object[] = base ? [...base.header] : [];
  const roots: object[] = [];
  const rootSet = new Set<object>();
  const loose: object[] = [];
  const walk = (start: unknown, enter: (o: object) => boolean, expand: readonly object[] = []): void => {
    const todo: unknown[] = [start];
    for (let i = expand.length - 1; i >= 0; i--) pushChildren(expand[i] as object, todo, base !== undefined);
    while (todo.length > 0) {
      let v = todo.pop();
      if (v instanceof Pending) {
        v = base?.resolve(v); // a reference into a segment never read: copied as it is
        if (v === undefined) continue;
      }
      if (v === null || typeof v !== 'object') continue;
      if (isModelObject(v) && !enter(v)) continue;
      pushChildren(v, todo, base !== undefined);
    }
  };
  // With a base, its header objects come first, where they were, and what they reach is walked.
  walk(
    state,
    (o) => {
    if (taken.has(o)) return false;
    if (o instanceof Backlog) {
      if (!rootSet.has(o)) {
        rootSet.add(o);
        roots.push(o);
      }
      return false;
    }
    if (SEGMENT_CLASSES.has(Object.getPrototypeOf(o) as object)) {
      loose.push(o);
      return false;
    }
    taken.add(o);
    header.push(o);
    return true;
    },
    base?.header,
  );
  const segments = roots.map((root) => {
    const seg: object[] = [];
    walk(root, (o) => {
      if (taken.has(o) || (o !== root && rootSet.has(o))) return false;
      taken.add(o);
      seg.push(o);
      return true;
    });
    return seg;
  });
  for (const o of loose) {
    walk(o, (x) => {
      if (taken.has(x)) return false;
      taken.add(x);
      header.push(x);
      return true;
    });
  }
  return { header, segments };
}

/** A snapshot a model was restored from, when writing the next one from it (modelCodec.ts). */
export interface SegmentBase {
  /** Its header objects: they stay first, in order. */
  readonly header: readonly object[];
  /** The object a pending reference stands for if its segment was read, else undefined (not read now). */
  resolve(p: Pending): object | undefined;
}

/**
 * Pushes the values `v` holds directly (`asHeld`: as its containers hold them, pending references
 * too, reading nothing), last first, so that a stack walk meets them in order
 * (the order `Object.keys`, Map and Set iteration give).
 */
function pushChildren(v: object, todo: unknown[], asHeld: boolean): void {
  if (Array.isArray(v)) {
    if (!asHeld) resolveList(v);
    for (let i = v.length - 1; i >= 0; i--) todo.push(v[i]);
  } else if (v instanceof Map) {
    const es = asHeld ? [...Map.prototype.entries.call(v)] : [...v];
    for (let i = es.length - 1; i >= 0; i--) {
      const [k, x] = es[i] as [unknown, unknown];
      todo.push(x, k);
    }
  } else if (v instanceof Set) {
    const xs = [...v];
    for (let i = xs.length - 1; i >= 0; i--) todo.push(xs[i]);
  } else {
    const ks = Object.keys(v);
    for (let i = ks.length - 1; i >= 0; i--) todo.push((v as Record<string, unknown>)[ks[i] as string]);
  }
}
