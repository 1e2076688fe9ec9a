import type { Pomodoro, User } from '../core/engine/model';
import type { StrategyRecord } from '../core/engine/records';
import type { CompactGroup, GroupBuilder } from './compactGroups';
import type { Life } from './compactLives';

/**
 * Records that undo one another: a CompleteWorkitem and the RestoreWorkitem after it, a category
 * added to a workitem and removed again. `observe` sees each record of a workitem life before
 * it is replayed and returns the pair it closes, if any.
 */
export interface UndoPairs {
  observe(r: StrategyRecord, i: number, life: Life, user: User | undefined): CompactGroup | null;
}

export function createUndoPairs(groups: GroupBuilder): UndoPairs {
  const pendingComplete = new Map<Life, number>();
  const pendingCategory = new Map<string, number>();
  const pair = (rule: 'complete-restore' | 'category-add-remove', a: number, b: number): CompactGroup =>
    groups.group(rule, [a, b], [groups.touched(rule, [a, b])]);

  function completion(r: StrategyRecord, i: number, life: Life, user: User | undefined): CompactGroup | null {
    if (r.name === 'CompleteWorkitem') {
      // Completing a running workitem stops its pomodoro: restoring it does not undo that.
      const w = user?.workitems.get(r.params[0] ?? '');
      if (w && w.runningPomodoro() === undefined) pendingComplete.set(life, i);
      else pendingComplete.delete(life);
      return null;
    }
    const c = pendingComplete.get(life);
    pendingComplete.delete(life);
    return c === undefined ? null : pair('complete-restore', c, i);
  }

  function categories(r: StrategyRecord, i: number, life: Life): CompactGroup | null {
    const [, removed, added] = r.params;
    const pairKey = (c: string): string => `${life.user}\u0000${life.uid}\u0000${c}`;
    if (removed && added) {
      pendingCategory.delete(pairKey(removed));
      pendingCategory.delete(pairKey(added));
    } else if (added) pendingCategory.set(pairKey(added), i);
    else if (removed) {
      const a = pendingCategory.get(pairKey(removed));
      pendingCategory.delete(pairKey(removed));
      if (a !== undefined) return pair('category-add-remove', a, i);
    }
    return null;
  }

  return {
    observe(r, i, life, user) {
      if (r.name === 'CompleteWorkitem' || r.name === 'RestoreWorkitem') return completion(r, i, life, user);
      if (r.name === 'UpdateWorkitemCategories') return categories(r, i, life);
      return null;
    },
  };
}

/**
 * Pomodoros planned and unplanned again: each RemovePomodoro that removes only pomodoros never
 * started nor interrupted, with the AddPomodoros that planned them. Related removes form one
 * cluster; the proposal drops the removes and shrinks (or drops) the adds.
 */
export interface PomodoroPairs {
  /** After AddPomodoro record `i` was replayed: the pomodoros past `before` are its. */
  added(r: StrategyRecord, i: number, user: User, before: number): void;
  /** Before RemovePomodoro record `i` is replayed. */
  removed(r: StrategyRecord, i: number, user: User): void;
  groups(records: readonly StrategyRecord[], groups: GroupBuilder): CompactGroup[];
}

export function createPomodoroPairs(): PomodoroPairs {
  const provenance = new WeakMap<Pomodoro, number>();
  const union = new UnionFind();
  const popped = new Map<number, number>(); // AddPomodoro index → pomodoros removed by clean RemovePomodoros
  const cleanRemoves: number[] = [];

  function added(r: StrategyRecord, i: number, user: User, before: number): void {
    const w = user.workitems.get(r.params[0] ?? '');
    if (w) for (const p of w.pomodoros.slice(before)) provenance.set(p, i);
  }

  function removed(r: StrategyRecord, i: number, user: User): void {
    const w = user.workitems.get(r.params[0] ?? '');
    const n = Number(r.params[1]);
    if (!w || !Number.isInteger(n) || n < 1 || n > w.pomodoros.length) return;
    const sources: number[] = [];
    for (const p of w.pomodoros.slice(w.pomodoros.length - n)) {
      const a = provenance.get(p);
      if (a === undefined || p.dateWorkStarted !== null || p.interruptions.length > 0) return;
      sources.push(a);
    }
    for (const a of sources) {
      popped.set(a, (popped.get(a) ?? 0) + 1);
      union.join(i, a);
    }
    cleanRemoves.push(i);
  }

  function groups(records: readonly StrategyRecord[], builder: GroupBuilder): CompactGroup[] {
    const clusters = new Map<number, number[]>();
    for (const i of cleanRemoves) {
      const root = union.find(i);
      clusters.set(root, [...(clusters.get(root) ?? []), i]);
    }
    const out: CompactGroup[] = [];
    for (const removes of clusters.values()) {
      const edits = new Map<number, StrategyRecord | null>();
      for (const i of removes) edits.set(i, null);
      for (const [a, n] of popped) {
        if (!removes.some((i) => union.find(i) === union.find(a))) continue;
        const add = records[a] as StrategyRecord;
        const left = Number(add.params[1]) - n;
        edits.set(
          a,
          left <= 0 ? null : { ...add, params: [add.params[0] ?? '', String(left), ...add.params.slice(2)] },
        );
      }
      const lastRemove = Math.max(...removes);
      const t = builder.touchOf(lastRemove);
      const variant = t ? [builder.withEdits('pomodoro-add-remove', new Map([...edits, [lastRemove, t]]), [])] : [];
      out.push(builder.withEdits('pomodoro-add-remove', edits, variant));
    }
    return out;
  }

  return { added, removed, groups };
}

class UnionFind {
  readonly #parent = new Map<number, number>();
  find(x: number): number {
    let root = x;
    while (this.#parent.has(root) && this.#parent.get(root) !== root) root = this.#parent.get(root) as number;
    this.#parent.set(x, root);
    return root;
  }
  join(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.#parent.set(ra, rb);
  }
}
