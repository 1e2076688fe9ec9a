import type { Micros } from '../core/clock';
import type { User } from '../core/engine/model';
import type { StrategyRecord } from '../core/engine/records';

/** The kinds of proposal `analyseHistory` makes (compactRules.ts), named in `fk compact`'s report. */
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

/** Makes a proposal that drops the records at `indices`, with finer proposals to try instead. */
export type GroupOf = (
  rule: CompactRule,
  indices: readonly number[],
  children?: readonly CompactGroup[],
) => CompactGroup;

/**
 * Builds proposals from what the analysis noted about each record: the state keys it can change,
 * its latest effect, and its "touch" (a same-name rename that keeps a dropped record's one lasting
 * effect, bumping a `last_modified_date`).
 */
export interface GroupBuilder {
  /** Notes record `i` (in order, before it is replayed: `user` is its author's state then). */
  note(i: number, r: StrategyRecord, user: User | undefined, keys: readonly string[], effect: Micros): void;
  group: GroupOf;
  /** Like `group`, but the last record becomes its touch (when it has one). */
  touched: GroupOf;
  withEdits(
    rule: CompactRule,
    edits: ReadonlyMap<number, StrategyRecord | null>,
    children: readonly CompactGroup[],
  ): CompactGroup;
  /** The touch of record `i`, if it has one. */
  touchOf(i: number): StrategyRecord | undefined;
}

export function createGroupBuilder(): GroupBuilder {
  const keys: (readonly string[])[] = [];
  const effect: Micros[] = [];
  const touches = new Map<number, StrategyRecord>();

  function note(i: number, r: StrategyRecord, user: User | undefined, k: readonly string[], e: Micros): void {
    keys.push(k);
    effect.push(e);
    const t = user === undefined ? undefined : touchFor(r, user);
    if (t !== undefined) touches.set(i, t);
  }

  function withEdits(
    rule: CompactRule,
    edits: ReadonlyMap<number, StrategyRecord | null>,
    children: readonly CompactGroup[],
  ): CompactGroup {
    const ks = new Set<string>();
    let maxEffect = Number.NEGATIVE_INFINITY;
    for (const i of edits.keys()) {
      for (const k of keys[i] ?? []) ks.add(k);
      maxEffect = Math.max(maxEffect, effect[i] ?? 0);
    }
    return { rule, edits, keys: ks, maxEffect, children };
  }

  const dropping = (indices: readonly number[]): Map<number, StrategyRecord | null> =>
    new Map(indices.map((i) => [i, null]));

  const group: GroupOf = (rule, indices, children = []) => withEdits(rule, dropping(indices), children);

  const touched: GroupOf = (rule, indices, children = []) => {
    const edits = dropping(indices);
    const lastIndex = Math.max(...indices);
    const t = touches.get(lastIndex);
    if (t) edits.set(lastIndex, t);
    return withEdits(rule, edits, children);
  };

  return { note, group, touched, withEdits, touchOf: (i) => touches.get(i) };
}

/** Same-name renames that keep what a dropped record leaves behind: its workitem's or backlog's stamp. */
function touchFor(r: StrategyRecord, user: User): StrategyRecord | undefined {
  const uid = r.params[0] ?? '';
  const target = user.workitems.get(uid);
  if (target === undefined) return undefined;
  const at = { seq: r.seq, when: r.when, user: r.user };
  if (r.name === 'RestoreWorkitem' || r.name === 'RemovePomodoro' || r.name === 'UpdateWorkitemCategories') {
    return { ...at, name: 'RenameWorkitem', params: [uid, target.name] };
  }
  if (r.name === 'DeleteWorkitem')
    return { ...at, name: 'RenameBacklog', params: [target.backlog.uid, target.backlog.name] };
  return undefined;
}
