import type { User, Workitem } from './model';

/**
 * A Python set of data items keyed by uid (items are equal when their uids are): iterates uids,
 * and keeps the object first added under a uid, which Flowkeeper then acts on.
 */
export class RefSet<T> implements Iterable<string> {
  private readonly map = new Map<string, T>();
  get size(): number {
    return this.map.size;
  }
  has(uid: string): boolean {
    return this.map.has(uid);
  }
  get(uid: string): T | undefined {
    return this.map.get(uid);
  }
  /** Python `set.add`: an item equal to one already there changes nothing. */
  add(uid: string, item: T): void {
    if (!this.map.has(uid)) this.map.set(uid, item);
  }
  delete(uid: string): boolean {
    return this.map.delete(uid);
  }
  clear(): void {
    this.map.clear();
  }
  entries(): IterableIterator<[string, T]> {
    return this.map.entries();
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this.map.keys();
  }
}

/**
 * A user's workitems by uid, as Flowkeeper finds them: it looks through the backlogs in order and
 * takes the first one holding the uid (uids are unique per backlog only). Usually one workitem
 * has a uid, and the lookup is a map read.
 */
export class WorkitemIndex {
  private readonly byUid = new Map<string, Workitem | Workitem[]>();
  constructor(private readonly user: User) {}
  get(uid: string): Workitem | undefined {
    const e = this.byUid.get(uid);
    if (e === undefined || !Array.isArray(e)) return e;
    for (const b of this.user.backlogs.values()) {
      const w = b.workitems.get(uid);
      if (w !== undefined) return w;
    }
    return undefined;
  }
  has(uid: string): boolean {
    return this.byUid.has(uid);
  }
  /** Every workitem, once each. */
  *values(): IterableIterator<Workitem> {
    for (const e of this.byUid.values()) {
      if (Array.isArray(e)) yield* e;
      else yield e;
    }
  }
  add(w: Workitem): void {
    const e = this.byUid.get(w.uid);
    if (e === undefined) this.byUid.set(w.uid, w);
    else if (Array.isArray(e)) e.push(w);
    else this.byUid.set(w.uid, [e, w]);
  }
  remove(w: Workitem): void {
    const e = this.byUid.get(w.uid);
    if (e === w) this.byUid.delete(w.uid);
    else if (Array.isArray(e)) {
      const rest = e.filter((x) => x !== w);
      this.byUid.set(w.uid, rest.length === 1 ? (rest[0] as Workitem) : rest);
    }
  }
}
