/*
 * What a model restored from a snapshot (modelCodec.ts) holds before all of it was read: a
 * reference to an object of a segment not read yet. Only the model's containers ever hold one,
 * and they resolve it before anyone sees it: a `PendingMap` on `get` (that entry) and on
 * iteration (all), an `OrderedMap`'s list when it is read (`resolveList`). Resolving reads and
 * decodes the object's segment (through the reader the snapshot store injected: core does no I/O).
 */

/** Where a pending reference resolves: the decoder of one restored snapshot. */
export interface PendingSource {
  deref(index: number): object;
}

/** A reference to object `index` of a restored snapshot, not read yet. */
export class Pending {
  constructor(
    readonly source: PendingSource,
    readonly index: number,
  ) {}
  resolve(): object {
    return this.source.deref(this.index);
  }
}

/**
 * A part of a snapshot could not be read as it was when the snapshot was restored (the file was
 * changed in place, truncated or damaged since). Never a line's fault: the engine lets it through
 * (a strategy that met it did not run to its end), and the command fails instead of going on with
 * a model that is not the history's.
 */
export class SnapshotReadError extends Error {
  override readonly name = 'SnapshotReadError';
}

/**
 * A Map some of whose values are `Pending`: `get` resolves that entry, any iteration resolves all
 * (then it becomes a plain Map again). Keys, `has`, `size`, `set` and `delete` need no resolving.
 */
export class PendingMap<K, V> extends Map<K, V> {
  #left = 0;
  /** A map of `entries`, where values may be pending; a plain Map when none is. */
  static of<K, V>(entries: ReadonlyArray<readonly [K, unknown]>): Map<K, V> {
    let left = 0;
    for (const [, v] of entries) if (v instanceof Pending) left++;
    const m = left === 0 ? new Map<K, V>() : new PendingMap<K, V>();
    for (const [k, v] of entries) Map.prototype.set.call(m, k, v);
    if (m instanceof PendingMap) m.#left = left;
    return m;
  }
  override get(key: K): V | undefined {
    const v: unknown = super.get(key);
    if (!(v instanceof Pending)) return v as V | undefined;
    const o = v.resolve() as V;
    super.set(key, o);
    if (--this.#left === 0) Object.setPrototypeOf(this, Map.prototype);
    return o;
  }
  override set(key: K, value: V): this {
    if ((super.get(key) as unknown) instanceof Pending) this.#left--;
    super.set(key, value);
    if (this.#left === 0) Object.setPrototypeOf(this, Map.prototype);
    return this;
  }
  override delete(key: K): boolean {
    if ((super.get(key) as unknown) instanceof Pending) this.#left--;
    const had = super.delete(key);
    if (this.#left === 0) Object.setPrototypeOf(this, Map.prototype);
    return had;
  }
  override clear(): void {
    super.clear();
    this.#left = 0;
    Object.setPrototypeOf(this, Map.prototype);
  }
  #resolveAll(): void {
    for (const [k, v] of super.entries()) {
      if ((v as unknown) instanceof Pending) super.set(k, (v as Pending).resolve() as V);
    }
    this.#left = 0;
    Object.setPrototypeOf(this, Map.prototype);
  }
  override values(): MapIterator<V> {
    this.#resolveAll();
    return super.values();
  }
  override entries(): MapIterator<[K, V]> {
    this.#resolveAll();
    return super.entries();
  }
  override [Symbol.iterator](): MapIterator<[K, V]> {
    this.#resolveAll();
    return super.entries();
  }
  override forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    this.#resolveAll();
    super.forEach(fn, thisArg);
  }
}

const pendingLists = new WeakSet<unknown[]>();
let listsMarked = 0;

/** `list` holds `Pending` elements: its owner calls `resolveList` before reading it. */
export function markPendingList(list: unknown[]): void {
  pendingLists.add(list);
  listsMarked++;
}

/** Resolves the pending elements of `list`, if it has any (a cheap test when none was ever marked). */
export function resolveList(list: unknown[]): void {
  if (listsMarked === 0 || !pendingLists.has(list)) return;
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (v instanceof Pending) list[i] = v.resolve();
  }
  pendingLists.delete(list); // only now: a read that failed leaves the rest pending, and failing again

}
