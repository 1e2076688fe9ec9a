import type { Micros } from '../core/clock';
import type { Pomodoro, User } from '../core/engine/model';
import { WORKITEM_STRATEGIES, type StrategyRecord } from '../core/engine/records';
import { createReplayState, executeRecord, type ReplayOptions } from '../core/engine/replay';
import { sealTimer } from '../core/engine/strategies/timerTransitions';
import { keyUid, recordKeys, timerKey, userKey } from './compactKeys';

/**
 * Proposals for `compactHistory` (compact.ts): groups of records whose removal (or, for
 * AddPomodoro, whose count reduction) is *expected* not to change the final state. Nothing here
 * has to be right: every proposal is verified by replaying, and refused when the state differs.
 * The better the proposals, the fewer verification rounds the search needs.
 */
export type CompactRule =
  | 'deleted-user'
  | 'deleted-backlog'
  | 'deleted-workitem'
  | 'deleted-category'
  | 'intermediate-rename'
  | 'superseded-reorder'
  | 'intermediate-move'
  | 'pomodoro-add-remove'
  | 'complete-restore'
  | 'category-add-remove'
  | 'idle-stop';

export const COMPACT_RULES: readonly CompactRule[] = [
  'deleted-user',
  'deleted-backlog',
  'deleted-workitem',
  'deleted-category',
  'intermediate-rename',
  'superseded-reorder',
  'intermediate-move',
  'pomodoro-add-remove',
  'complete-restore',
  'category-add-remove',
  'idle-stop',
];

/** A proposed edit of the history: record index → replacement, or null to drop it. */
export interface CompactGroup {
  readonly rule: CompactRule;
  readonly edits: ReadonlyMap<number, StrategyRecord | null>;
  /** State keys (compactKeys.ts) the edited records can influence. */
  readonly keys: ReadonlySet<string>;
  /** Latest instant any edited record can stamp on the state (a pomodoro rings after its record). */
  readonly maxEffect: Micros;
  /** Finer proposals to try when this one is refused. */
  readonly children: readonly CompactGroup[];
}

export interface CompactAnalysis {
  /** Whole deleted entities: tried first. */
  readonly coarse: readonly CompactGroup[];
  /** Everything else, tried on what the coarse pass kept. */
  readonly fine: readonly CompactGroup[];
  /** Keys of the entities each record names (for attributing a replay failure). */
  readonly subjects: readonly (readonly string[])[];
}

type Kind = 'user' | 'backlog' | 'workitem' | 'category';

/** One life of an entity: from its creation to its deletion (a uid can be created again). */
interface Inst {
  readonly kind: Kind;
  readonly user: string;
  readonly uid: string;
  readonly records: number[];
  end: number | null;
  endBySelf: boolean;
  /** workitem: backlogs it lived in; backlog: workitems that lived in it; category: sub-categories created in it. */
  readonly related: Set<Inst>;
  readonly renames: number[];
  readonly reorders: number[];
  readonly moves: number[];
  /** user: every record the user wrote. category: UpdateWorkitemCategories naming it. */
  readonly owned: number[];
}


/** Strategies that seal the user's timer before anything else: sealing first changes nothing. */
const SEALING: ReadonlySet<string> = new Set([
  'AddInterruption',
  'StartTimer',
  'StartWork',
  'StopTimer',
  'FinishTracking',
  'VoidPomodoro',
  'DeleteWorkitem',
  'CompleteWorkitem',
]);

/**
 * Replays the (valid) history once, attributes every record to the entity lives it touches, and
 * derives the proposals. Throws whatever a strict replay throws on an invalid history.
 */
export function analyseHistory(records: readonly StrategyRecord[], opts: ReplayOptions): CompactAnalysis {
  const state = createReplayState(opts.now);
  const live = new Map<string, Inst>();
  const all: Inst[] = [];
  const keyOf = (u: string, uid: string): string => `${u}\u0000${uid}`;
  const keys: string[][] = [];
  const subjects: string[][] = [];
  const effect: Micros[] = [];
  const provenance = new WeakMap<Pomodoro, number>();
  const union = new UnionFind();
  const popped = new Map<number, number>(); // AddPomodoro index → pomodoros removed by clean RemovePomodoros
  const cleanRemoves: number[] = [];
  const pendingComplete = new Map<Inst, number>();
  const pendingCategory = new Map<string, number>();
  const fine: CompactGroup[] = [];
  const idleStops: number[] = [];
  /** Same-name renames that keep a dropped record's only lasting effect: bumping `last_modified_date`. */
  const touches = new Map<number, StrategyRecord>();
  const touch = (i: number, r: StrategyRecord, name: 'RenameWorkitem' | 'RenameBacklog', uid: string, value: string): void => {
    touches.set(i, { seq: r.seq, when: r.when, user: r.user, name, params: [uid, value] });
  };

  const open = (kind: Kind, u: string, uid: string, i: number): Inst => {
    const inst: Inst = { kind, user: u, uid, records: [i], end: null, endBySelf: false, related: new Set(), renames: [], reorders: [], moves: [], owned: [] };
    live.set(`${kind}\u0000${keyOf(u, uid)}`, inst);
    all.push(inst);
    return inst;
  };
  const get = (kind: Kind, u: string, uid: string): Inst | undefined => live.get(`${kind}\u0000${keyOf(u, uid)}`);
  const close = (inst: Inst, i: number, bySelf: boolean): void => {
    inst.end = i;
    inst.endBySelf = bySelf;
    live.delete(`${inst.kind}\u0000${keyOf(inst.user, inst.uid)}`);
  };

  records.forEach((r, i) => {
    const user = state.tenant.users.get(r.user);
    const p0 = r.params[0] ?? '';
    if (user && SEALING.has(r.name)) sealTimer(user, r.when);
    const rk = recordKeys(r, user);
    keys.push(rk);
    subjects.push(subjectKeys(r, rk));
    effect.push(effectOf(r, user, opts));
    get('user', r.user, r.user)?.owned.push(i);
    const before = user ? snapshotBefore(r, user) : null;
    const target = user?.workitems.get(p0);
    if (target && (r.name === 'RestoreWorkitem' || r.name === 'RemovePomodoro' || r.name === 'UpdateWorkitemCategories')) {
      touch(i, r, 'RenameWorkitem', p0, target.name);
    } else if (target && r.name === 'DeleteWorkitem') touch(i, r, 'RenameBacklog', target.backlog.uid, target.backlog.name);
    switch (r.name) {
      case 'CreateUser':
        open('user', p0, p0, i).owned.push(i);
        break;
      case 'RenameUser':
      case 'DeleteUser': {
        const inst = get('user', p0, p0);
        if (inst) {
          inst.records.push(i);
          if (r.name === 'RenameUser') inst.renames.push(i);
          else close(inst, i, true);
        }
        break;
      }
      case 'CreateBacklog':
        open('backlog', r.user, p0, i);
        break;
      case 'RenameBacklog':
      case 'ReorderBacklog':
      case 'DeleteBacklog': {
        const inst = get('backlog', r.user, p0);
        if (!inst) break;
        inst.records.push(i);
        if (r.name === 'RenameBacklog') inst.renames.push(i);
        else if (r.name === 'ReorderBacklog') inst.reorders.push(i);
        else {
          for (const w of user?.backlogs.get(p0)?.workitems.values() ?? []) {
            const wi = get('workitem', r.user, w.uid);
            if (wi) close(wi, i, false);
          }
          close(inst, i, true);
        }
        break;
      }
      case 'CreateWorkitem': {
        const wi = open('workitem', r.user, p0, i);
        const bi = get('backlog', r.user, r.params[1] ?? '');
        if (bi) link(wi, bi);
        break;
      }
      case 'StopTimer':
      case 'FinishTracking': {
        const running = user?.timer.pomodoro;
        const wi = running ? get('workitem', r.user, running.workitem.uid) : undefined;
        if (wi) wi.records.push(i);
        else idleStops.push(i);
        break;
      }
      case 'CreateCategory': {
        const ci = open('category', r.user, p0, i);
        const parent = get('category', r.user, r.params[1] ?? '');
        if (parent) parent.related.add(ci);
        break;
      }
      case 'RenameCategory':
      case 'ReorderCategory':
      case 'DeleteCategory': {
        const ci = get('category', r.user, p0);
        if (r.name === 'DeleteCategory') {
          const c = user?.categories.get(p0);
          if (c) for (const d of descendants(c)) {
            const di = get('category', r.user, d);
            if (di && di !== ci) close(di, i, false);
          }
        }
        if (!ci) break;
        ci.records.push(i);
        if (r.name === 'RenameCategory') ci.renames.push(i);
        else if (r.name === 'ReorderCategory') ci.reorders.push(i);
        else close(ci, i, true);
        break;
      }
      default:
        break;
    }
    if (WORKITEM_STRATEGIES.has(r.name)) {
      const wi = get('workitem', r.user, p0);
      if (wi) {
        wi.records.push(i);
        if (r.name === 'RenameWorkitem') wi.renames.push(i);
        else if (r.name === 'ReorderWorkitem') wi.reorders.push(i);
        else if (r.name === 'MoveWorkitem') {
          wi.moves.push(i);
          const bi = get('backlog', r.user, r.params[1] ?? '');
          if (bi) link(wi, bi);
        } else if (r.name === 'DeleteWorkitem') close(wi, i, true);
        else if (r.name === 'UpdateWorkitemCategories') {
          for (const c of [r.params[1], r.params[2]]) if (c) get('category', r.user, c)?.owned.push(i);
          trackCategoryPair(r, i, wi);
        } else if (r.name === 'CompleteWorkitem') {
          const w = user?.workitems.get(p0);
          if (w && w.runningPomodoro() === undefined) pendingComplete.set(wi, i);
          else pendingComplete.delete(wi);
        } else if (r.name === 'RestoreWorkitem') {
          const c = pendingComplete.get(wi);
          pendingComplete.delete(wi);
          if (c !== undefined) fine.push(group('complete-restore', [c, i], [touched('complete-restore', [c, i])]));
        } else if (r.name === 'RemovePomodoro' && user) trackRemove(r, i, user);
      }
    }
    executeRecord(state, r, opts);
    state.lastUser = r.user;
    if (r.name === 'AddPomodoro' && user && before !== null) {
      const w = user.workitems.get(p0);
      if (w) for (const p of w.pomodoros.slice(before)) provenance.set(p, i);
    }
    if (before !== null && (r.name === 'ReorderWorkitem' || r.name === 'ReorderBacklog' || r.name === 'ReorderCategory') && user) {
      if (positionOf(r, user) === before) fine.push(group('superseded-reorder', [i]));
    }
  });

  function link(w: Inst, b: Inst): void {
    w.related.add(b);
    b.related.add(w);
  }

  function trackCategoryPair(r: StrategyRecord, i: number, wi: Inst): void {
    const [, removed, added] = r.params;
    const pairKey = (c: string): string => `${wi.user}\u0000${wi.uid}\u0000${c}`;
    if (removed && added) {
      pendingCategory.delete(pairKey(removed));
      pendingCategory.delete(pairKey(added));
    } else if (added) pendingCategory.set(pairKey(added), i);
    else if (removed) {
      const a = pendingCategory.get(pairKey(removed));
      pendingCategory.delete(pairKey(removed));
      if (a !== undefined) fine.push(group('category-add-remove', [a, i], [touched('category-add-remove', [a, i])]));
    }
  }

  function trackRemove(r: StrategyRecord, i: number, user: User): void {
    const w = user.workitems.get(r.params[0] ?? '');
    const n = Number(r.params[1]);
    if (!w || !Number.isInteger(n) || n < 1 || n > w.pomodoros.length) return;
    const gone = w.pomodoros.slice(w.pomodoros.length - n);
    const sources: number[] = [];
    for (const p of gone) {
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

  function group(rule: CompactRule, indices: readonly number[], children: readonly CompactGroup[] = []): CompactGroup {
    const edits = new Map<number, StrategyRecord | null>();
    for (const i of indices) edits.set(i, null);
    return withEdits(rule, edits, children);
  }

  /** The same removal, but the last record becomes its touch (when it has one and is not sealed). */
  function touched(rule: CompactRule, indices: readonly number[], children: readonly CompactGroup[] = []): CompactGroup {
    const edits = new Map<number, StrategyRecord | null>();
    for (const i of indices) edits.set(i, null);
    const lastIndex = Math.max(...indices);
    const t = touches.get(lastIndex);
    if (t) edits.set(lastIndex, t);
    return withEdits(rule, edits, children);
  }

  function withEdits(rule: CompactRule, edits: Map<number, StrategyRecord | null>, children: readonly CompactGroup[]): CompactGroup {
    const ks = new Set<string>();
    let maxEffect = Number.NEGATIVE_INFINITY;
    for (const i of edits.keys()) {
      for (const k of keys[i] ?? []) ks.add(k);
      maxEffect = Math.max(maxEffect, effect[i] ?? 0);
    }
    return { rule, edits, keys: ks, maxEffect, children };
  }

  // Pomodoro clusters: each clean RemovePomodoro with the AddPomodoros it undid; the adds shrink.
  const clusters = new Map<number, number[]>();
  for (const i of cleanRemoves) {
    const root = union.find(i);
    clusters.set(root, [...(clusters.get(root) ?? []), i]);
  }
  for (const removes of clusters.values()) {
    const edits = new Map<number, StrategyRecord | null>();
    for (const i of removes) edits.set(i, null);
    for (const [a, n] of popped) {
      if (!removes.some((i) => union.find(i) === union.find(a))) continue;
      const add = records[a] as StrategyRecord;
      const left = Number(add.params[1]) - n;
      edits.set(a, left <= 0 ? null : { ...add, params: [add.params[0] ?? '', String(left), ...add.params.slice(2)] });
    }
    const lastRemove = Math.max(...removes);
    const t = touches.get(lastRemove);
    const variant = t ? [withEdits('pomodoro-add-remove', new Map([...edits, [lastRemove, t]]), [])] : [];
    fine.push(withEdits('pomodoro-add-remove', edits, variant));
  }
  for (const inst of all) fine.push(...entityFineGroups(inst, records, group));
  if (idleStops.length > 0) {
    fine.push(group('idle-stop', idleStops, idleStops.length > 1 ? idleStops.map((i) => group('idle-stop', [i])) : []));
  }
  return { coarse: coarseGroups(all, group, touched), fine, subjects };
}

function entityFineGroups(
  inst: Inst,
  records: readonly StrategyRecord[],
  group: (rule: CompactRule, indices: readonly number[], children?: readonly CompactGroup[]) => CompactGroup,
): CompactGroup[] {
  const out: CompactGroup[] = [];
  const singles = (rule: CompactRule, xs: readonly number[]): CompactGroup[] => (xs.length > 1 ? xs.map((i) => group(rule, [i])) : []);
  if (inst.renames.length > 0) {
    const drop = inst.renames.slice(0, -1);
    const last = inst.renames[inst.renames.length - 1] as number;
    const created = records[inst.records[0] as number];
    const createdName = inst.kind === 'workitem' ? created?.params[2] : inst.kind === 'category' ? created?.params[2] : created?.params[1];
    if (inst.end === null && records[last]?.params[1] === createdName) drop.push(last);
    if (drop.length > 0) out.push(group('intermediate-rename', drop, singles('intermediate-rename', drop)));
  }
  if (inst.reorders.length > 0) {
    // All of them first (an item moved and put back), then all but the last, then one by one.
    const drop = inst.reorders.slice(0, -1);
    const finer = drop.length > 0 ? [group('superseded-reorder', drop, singles('superseded-reorder', drop))] : [];
    out.push(group('superseded-reorder', inst.reorders, finer));
  }
  if (inst.moves.length > 1) {
    const drop = inst.moves.slice(0, -1);
    out.push(group('intermediate-move', drop, singles('intermediate-move', drop)));
  }
  return out;
}

/** Whole deleted entities, nested: a deleted user holds its deleted backlogs, which hold their deleted workitems. */
type GroupOf = (rule: CompactRule, indices: readonly number[], children?: readonly CompactGroup[]) => CompactGroup;

function coarseGroups(all: readonly Inst[], group: GroupOf, touched: GroupOf): CompactGroup[] {
  const own = (inst: Inst): number[] => (inst.endBySelf || inst.end === null ? inst.records : inst.records.filter((i) => i !== inst.end));
  const workitemGroup = (w: Inst): CompactGroup =>
    group('deleted-workitem', own(w), w.endBySelf ? [touched('deleted-workitem', own(w))] : []);
  const categoryRecords = (c: Inst): number[] => [...own(c), ...c.owned, ...[...c.related].flatMap(categoryRecords)];
  const categoryGroup = (c: Inst): CompactGroup =>
    group('deleted-category', categoryRecords(c), [...c.related].filter((d) => d.end !== null && d.endBySelf).map(categoryGroup));
  const contained = new Set<Inst>();
  const backlogGroups: CompactGroup[] = [];
  for (const b of all) {
    if (b.kind !== 'backlog' || b.end === null) continue;
    const members = [...b.related];
    const whole = members.every((w) => w.end !== null && [...w.related].every((x) => x === b));
    if (!whole) continue;
    members.forEach((w) => contained.add(w));
    const children = members.filter((w) => w.endBySelf).map(workitemGroup);
    backlogGroups.push(group('deleted-backlog', [...own(b), ...members.flatMap(own)], children));
  }
  const out: CompactGroup[] = [...backlogGroups];
  for (const w of all) if (w.kind === 'workitem' && w.end !== null && !contained.has(w)) out.push(workitemGroup(w));
  const nested = new Set<Inst>();
  for (const c of all) if (c.kind === 'category') for (const d of c.related) nested.add(d);
  for (const c of all) {
    if (c.kind === 'category' && c.end !== null && (!nested.has(c) || c.endBySelf)) {
      // A sub-category deleted before its parent is tried with its parent first (as a child group).
      const parentDeleted = [...all].some((p) => p.kind === 'category' && p.related.has(c) && p.end !== null);
      if (!parentDeleted) out.push(categoryGroup(c));
    }
  }
  const users: CompactGroup[] = [];
  for (const u of all) {
    if (u.kind !== 'user' || u.end === null) continue;
    users.push(group('deleted-user', [...u.records, ...u.owned]));
  }
  return [...users, ...out];
}

function descendants(c: { uid: string; children: { values(): readonly unknown[] } }): string[] {
  const out = [c.uid];
  for (const ch of c.children.values() as ReadonlyArray<typeof c>) out.push(...descendants(ch));
  return out;
}

/** Position before the record: pomodoro count for AddPomodoro, list index for reorders. */
function snapshotBefore(r: StrategyRecord, user: User): number | null {
  if (r.name === 'AddPomodoro') return user.workitems.get(r.params[0] ?? '')?.pomodoros.length ?? null;
  if (r.name === 'ReorderWorkitem' || r.name === 'ReorderBacklog' || r.name === 'ReorderCategory') return positionOf(r, user);
  return null;
}

function positionOf(r: StrategyRecord, user: User): number | null {
  const uid = r.params[0] ?? '';
  if (r.name === 'ReorderBacklog') return user.backlogs.indexOf(uid);
  if (r.name === 'ReorderWorkitem') return user.workitems.get(uid)?.backlog.workitems.indexOf(uid) ?? null;
  const c = user.categories.get(uid);
  const parent = c?.parent as { children?: { indexOf(u: string): number } } | null | undefined;
  return parent?.children?.indexOf(uid) ?? null;
}

/** The latest instant a record can stamp on the state: a started pomodoro rings after work and rest. */
function effectOf(r: StrategyRecord, user: User | undefined, opts: ReplayOptions): Micros {
  if (r.name !== 'StartTimer' && r.name !== 'StartWork') return r.when;
  const w = user?.workitems.get(r.params[0] ?? '');
  const p = w?.pomodoros.find((x) => x.state === 'new');
  const num = (s: string | undefined, dflt: number): number => (s === undefined || s === '' || !Number.isFinite(Number(s)) ? dflt : Number(s));
  const work = num(r.params[1], p?.workDuration ?? opts.defaultWork ?? 1500);
  const rest = num(r.params[2], p?.restDuration ?? opts.defaultRest ?? 300);
  return r.when + Math.max(0, work + rest) * 1_000_000 + 2_000_000;
}

/** Keys of the entities a record names in its parameters (plus the timer for timer strategies). */
function subjectKeys(r: StrategyRecord, full: readonly string[]): string[] {
  const named = new Set(r.params.filter((p) => p !== ''));
  const out = full.filter((k) => {
    const uid = keyUid(k);
    return uid !== '' && named.has(uid);
  });
  if (SEALING.has(r.name)) out.push(timerKey(r.user));
  if (r.name === 'CreateUser' || r.name === 'DeleteUser' || r.name === 'RenameUser') out.push(userKey(r.params[0] ?? ''));
  return out;
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

