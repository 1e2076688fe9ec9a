import type { User } from '../core/engine/model';
import { WORKITEM_STRATEGIES, type StrategyRecord } from '../core/engine/records';

export type LifeKind = 'user' | 'backlog' | 'workitem' | 'category';

/** One life of an entity: from its creation to its deletion (a uid can be created again). */
export interface Life {
  readonly kind: LifeKind;
  readonly user: string;
  readonly uid: string;
  /** Indexes of the records about it, its creation first. */
  readonly records: number[];
  /** The record that ended it (its own deletion, or its container's), or null while it lives. */
  end: number | null;
  endBySelf: boolean;
  /** workitem: backlogs it lived in; backlog: workitems that lived in it; category: sub-categories created in it. */
  readonly related: Set<Life>;
  readonly renames: number[];
  readonly reorders: number[];
  readonly moves: number[];
  /** user: every record the user wrote. category: UpdateWorkitemCategories naming it. */
  readonly owned: number[];
}

/** The entity lives of a history, followed record by record (`attribute`, before the record is replayed). */
export interface Lives {
  /** Every life, in order of creation. */
  readonly all: readonly Life[];
  /** StopTimer/FinishTracking records that found no running pomodoro: they change nothing lasting. */
  readonly idleStops: readonly number[];
  get(kind: LifeKind, user: string, uid: string): Life | undefined;
  /** Attributes record `i` to the lives it touches; `user` is its author's state before it. */
  attribute(r: StrategyRecord, i: number, user: User | undefined): void;
}

export function createLives(): Lives {
  const live = new Map<string, Life>();
  const all: Life[] = [];
  const idleStops: number[] = [];
  const keyOf = (kind: LifeKind, u: string, uid: string): string => `${kind}\u0000${u}\u0000${uid}`;

  const open = (kind: LifeKind, u: string, uid: string, i: number): Life => {
    const life: Life = {
      kind,
      user: u,
      uid,
      records: [i],
      end: null,
      endBySelf: false,
      related: new Set(),
      renames: [],
      reorders: [],
      moves: [],
      owned: [],
    };
    live.set(keyOf(kind, u, uid), life);
    all.push(life);
    return life;
  };
  const get = (kind: LifeKind, u: string, uid: string): Life | undefined => live.get(keyOf(kind, u, uid));
  const close = (life: Life, i: number, bySelf: boolean): void => {
    life.end = i;
    life.endBySelf = bySelf;
    live.delete(keyOf(life.kind, life.user, life.uid));
  };
  const link = (w: Life, b: Life): void => {
    w.related.add(b);
    b.related.add(w);
  };

  function userRecord(r: StrategyRecord, i: number, uid: string): void {
    if (r.name === 'CreateUser') {
      open('user', uid, uid, i).owned.push(i);
      return;
    }
    const life = get('user', uid, uid);
    if (!life) return;
    life.records.push(i);
    if (r.name === 'RenameUser') life.renames.push(i);
    else close(life, i, true);
  }

  function backlogRecord(r: StrategyRecord, i: number, user: User | undefined, uid: string): void {
    if (r.name === 'CreateBacklog') {
      open('backlog', r.user, uid, i);
      return;
    }
    const life = get('backlog', r.user, uid);
    if (!life) return;
    life.records.push(i);
    if (r.name === 'RenameBacklog') life.renames.push(i);
    else if (r.name === 'ReorderBacklog') life.reorders.push(i);
    else {
      for (const w of user?.backlogs.get(uid)?.workitems.values() ?? []) {
        const wl = get('workitem', r.user, w.uid);
        if (wl) close(wl, i, false);
      }
      close(life, i, true);
    }
  }

  function categoryRecord(r: StrategyRecord, i: number, user: User | undefined, uid: string): void {
    if (r.name === 'CreateCategory') {
      const life = open('category', r.user, uid, i);
      get('category', r.user, r.params[1] ?? '')?.related.add(life);
      return;
    }
    const life = get('category', r.user, uid);
    if (r.name === 'DeleteCategory') {
      const c = user?.categories.get(uid);
      for (const d of c ? descendants(c) : []) {
        const dl = get('category', r.user, d);
        if (dl && dl !== life) close(dl, i, false);
      }
    }
    if (!life) return;
    life.records.push(i);
    if (r.name === 'RenameCategory') life.renames.push(i);
    else if (r.name === 'ReorderCategory') life.reorders.push(i);
    else close(life, i, true);
  }

  /** A stop belongs to the workitem whose pomodoro runs; with none running it is an idle stop. */
  function stopRecord(r: StrategyRecord, i: number, user: User | undefined): void {
    const running = user?.timer.pomodoro;
    const life = running ? get('workitem', r.user, running.workitem.uid) : undefined;
    if (life) life.records.push(i);
    else idleStops.push(i);
  }

  function workitemRecord(r: StrategyRecord, i: number, uid: string): void {
    const life = get('workitem', r.user, uid);
    if (!life) return;
    life.records.push(i);
    if (r.name === 'RenameWorkitem') life.renames.push(i);
    else if (r.name === 'ReorderWorkitem') life.reorders.push(i);
    else if (r.name === 'MoveWorkitem') {
      life.moves.push(i);
      const bl = get('backlog', r.user, r.params[1] ?? '');
      if (bl) link(life, bl);
    } else if (r.name === 'DeleteWorkitem') close(life, i, true);
    else if (r.name === 'UpdateWorkitemCategories') {
      for (const c of [r.params[1], r.params[2]]) if (c) get('category', r.user, c)?.owned.push(i);
    }
  }

  function attribute(r: StrategyRecord, i: number, user: User | undefined): void {
    const uid = r.params[0] ?? '';
    get('user', r.user, r.user)?.owned.push(i);
    switch (r.name) {
      case 'CreateUser':
      case 'RenameUser':
      case 'DeleteUser':
        userRecord(r, i, uid);
        break;
      case 'CreateBacklog':
      case 'RenameBacklog':
      case 'ReorderBacklog':
      case 'DeleteBacklog':
        backlogRecord(r, i, user, uid);
        break;
      case 'CreateWorkitem': {
        const wl = open('workitem', r.user, uid, i);
        const bl = get('backlog', r.user, r.params[1] ?? '');
        if (bl) link(wl, bl);
        break;
      }
      case 'StopTimer':
      case 'FinishTracking':
        stopRecord(r, i, user);
        break;
      case 'CreateCategory':
      case 'RenameCategory':
      case 'ReorderCategory':
      case 'DeleteCategory':
        categoryRecord(r, i, user, uid);
        break;
      default:
        break;
    }
    // FinishTracking names a workitem too: it counts for the running one and for the one it names.
    if (WORKITEM_STRATEGIES.has(r.name)) workitemRecord(r, i, uid);
  }

  return { all, idleStops, get, attribute };
}

function descendants(c: { uid: string; children: { values(): readonly unknown[] } }): string[] {
  const out = [c.uid];
  for (const ch of c.children.values() as ReadonlyArray<typeof c>) out.push(...descendants(ch));
  return out;
}
