import type { Micros } from '../core/clock';
import { DomainError, FkError } from '../core/errors';
import { cloneTenant } from '../core/engine/cloneTenant';
import type { Category, OrderedMap, User } from '../core/engine/model';
import { WORKITEM_STRATEGIES, type StrategyName, type StrategyRecord } from '../core/engine/records';
import { createReplayState, executeRecord, type ReplayOptions, type ReplayState } from '../core/engine/replay';

/**
 * Plans `fk import`: turns another history's records into records the target user can append,
 * and checks every one of them against a scratch copy of the target state, so that the caller
 * appends nothing unless the whole import goes through (replay mode) or knows exactly what
 * merge will skip.
 *
 * Rules common to both modes:
 * - every record becomes the target user's (records of other users are mapped to them);
 *   `CreateUser`, `RenameUser` and `DeleteUser` are never imported;
 * - records keep their original timestamps: a pomodoro that ran in the past rings and finishes
 *   at its planned time instead of running again now (stamping them "now" would void it as soon
 *   as the next imported record arrives);
 * - a reorder is translated by its neighbour: the item is put before the item that follows it
 *   in the source list (or last), so the imported items keep their relative order even though
 *   the target's own items come first in the list.
 *
 * `replay`: backlogs, workitems and (non-system) categories get fresh uids, so importing twice
 * gives two copies; any record the target rejects aborts the plan, naming the source line.
 *
 * `merge`: uids are kept, and
 * - a record identical to one already in the target (same time, strategy and parameters) is skipped;
 * - `CreateBacklog`/`CreateWorkitem`/`CreateCategory` of a uid the target has is skipped, or,
 *   when the name differs, becomes `RenameBacklog`/`RenameWorkitem`/`RenameCategory` (a sealed
 *   workitem is not renamed); the existing entity stays where it is;
 * - a delete of a uid the target does not have is skipped;
 * - any other record the target's rules reject at that point is skipped;
 * every skip is listed with its source line and reason.
 */
export type ImportMode = 'replay' | 'merge';

export interface ImportOptions {
  /** `replay`: fresh uids, any rejection aborts; `merge`: same uids, rejections are skipped. */
  readonly mode: ImportMode;
  /** The target user: every imported record is theirs. */
  readonly user: string;
  /** Fresh uids for `replay` mode. */
  readonly newId: () => string;
  /** Wall clock of the source replay (trackers, the admin user). */
  readonly now: Micros;
  /** Records already in the target, for `merge`'s duplicate check. @default [] */
  readonly existing?: readonly StrategyRecord[];
  /** Default pomodoro durations in seconds, as for `replay`. @default 1500 */
  readonly defaultWork?: number;
  /** @default 300 */
  readonly defaultRest?: number;
}

/** A source record, with the physical line it came from (for messages). */
export interface SourceRecord {
  readonly record: StrategyRecord;
  readonly lineNumber: number;
}

/** A record to append as the target user, at its original instant. */
export interface PlannedRecord {
  /** Line of the source it comes from. */
  readonly sourceLine: number;
  readonly when: Micros;
  readonly name: StrategyName;
  readonly params: readonly string[];
}

/** A source record the import leaves out, and why. */
export interface ImportSkip {
  readonly sourceLine: number;
  readonly name: StrategyName;
  readonly reason: string;
}

export interface ImportPlan {
  /** What to append, in order. */
  readonly records: readonly PlannedRecord[];
  /** What is left out (user records always; in merge mode also duplicates and rejections). */
  readonly skipped: readonly ImportSkip[];
  /** The scratch target state after the planned records: what the import will produce. */
  readonly result: ReplayState;
}

const USER_RECORDS: ReadonlySet<string> = new Set(['CreateUser', 'RenameUser', 'DeleteUser']);
type Role = 'backlog' | 'workitem' | 'category' | 'categories' | 'index' | null;

/** Which parameters hold uids (and of what), per strategy. */
const ROLES: Readonly<Partial<Record<StrategyName, readonly Role[]>>> = {
  CreateBacklog: ['backlog'],
  RenameBacklog: ['backlog'],
  DeleteBacklog: ['backlog'],
  ReorderBacklog: ['backlog', 'index'],
  CreateWorkitem: ['workitem', 'backlog', null, 'categories'],
  ReorderWorkitem: ['workitem', 'index'],
  MoveWorkitem: ['workitem', 'backlog'],
  UpdateWorkitemCategories: ['workitem', 'category', 'category'],
  CreateCategory: ['category', 'category'],
  RenameCategory: ['category'],
  DeleteCategory: ['category'],
  ReorderCategory: ['category', 'index'],
};

const rolesOf = (name: StrategyName): readonly Role[] =>
  ROLES[name] ?? (WORKITEM_STRATEGIES.has(name) ? ['workitem'] : []);
const signature = (when: Micros, name: string, params: readonly string[]): string =>
  `${when}\u0000${name}\u0000${params.join('\u0000')}`;

/** The uid that follows `uid` in the list holding it, after a reorder; null when it is last. */
function followerOf(user: User | undefined, name: StrategyName, uid: string): string | null {
  const list = listOf(user, name, uid);
  if (!list) return null;
  const items = list.values();
  return items[list.indexOf(uid) + 1]?.uid ?? null;
}

function listOf(user: User | undefined, name: StrategyName, uid: string): OrderedMap<{ uid: string }> | null {
  if (!user) return null;
  if (name === 'ReorderBacklog') return user.backlogs;
  if (name === 'ReorderWorkitem') return user.workitems.get(uid)?.backlog.workitems ?? null;
  const parent = user.categories.get(uid)?.parent as Category | undefined;
  return parent?.children ?? null;
}

/** The `ReorderX` index that puts `uid` right before `anchor` (or last) in the target list. */
function indexBefore(
  list: OrderedMap<{ uid: string }> | null,
  uid: string,
  anchor: string | null,
  fallback: string,
): string {
  if (!list || list.indexOf(uid) < 0) return fallback;
  const old = list.indexOf(uid);
  if (anchor === null) return String(list.size);
  const p = list.indexOf(anchor);
  if (p < 0) return fallback;
  const target = p > old ? p - 1 : p;
  return String(target >= old ? target + 1 : target);
}

/**
 * Plans the import of `source` (a valid history: replay it strictly first) into `target`, which
 * is not modified. Throws `DomainError` in replay mode when the target rejects a record; the
 * message starts with the source line (`line 12: …`).
 */
export function planImport(source: readonly SourceRecord[], target: ReplayState, opts: ImportOptions): ImportPlan {
  const ropts: ReplayOptions = {
    now: opts.now,
    defaultWork: opts.defaultWork ?? 1500,
    defaultRest: opts.defaultRest ?? 300,
  };
  const src = createReplayState(opts.now);
  const scratch: ReplayState = { ...target, tenant: cloneTenant(target.tenant), skipped: [] };
  const uids = new Map<string, string>();
  const existing = new Set((opts.existing ?? []).map((r) => signature(r.when, r.name, r.params)));
  const records: PlannedRecord[] = [];
  const skipped: ImportSkip[] = [];
  const targetUser = (): User | undefined => scratch.tenant.users.get(opts.user);

  const mapUid = (
    srcUser: string,
    uid: string,
    role: Exclude<Role, 'index' | 'categories' | null>,
    create: boolean,
  ): string => {
    if (opts.mode === 'merge' || uid === '' || (role === 'category' && uid.startsWith('#'))) return uid;
    const key = `${srcUser}\u0000${role}\u0000${uid}`;
    let mapped = uids.get(key);
    if (mapped === undefined || create) uids.set(key, (mapped = opts.newId()));
    return mapped;
  };

  for (const { record: r, lineNumber } of source) {
    const skip = (reason: string): void => {
      skipped.push({ sourceLine: lineNumber, name: r.name, reason });
    };
    const roles = rolesOf(r.name);
    const creates = r.name === 'CreateBacklog' || r.name === 'CreateWorkitem' || r.name === 'CreateCategory';
    let params = r.params.map((p, i) => {
      const role = roles[i] ?? null;
      if (role === null || role === 'index') return p;
      if (role === 'categories')
        return p === ''
          ? p
          : p
              .split(',')
              .map((c) => mapUid(r.user, c.trim(), 'category', false))
              .join(',');
      return mapUid(r.user, p, role, creates && i === 0);
    });
    try {
      executeRecord(src, r, ropts);
    } catch (err) {
      throw new DomainError(
        'FK_HISTORY_INVALID',
        `line ${lineNumber}: the imported history does not replay: ${err instanceof Error ? err.message : String(err)}`,
        {
          lineNumber,
          seq: r.seq,
          cause: err,
        },
      );
    }
    if (USER_RECORDS.has(r.name)) {
      skip('user records are not imported');
      continue;
    }
    if (roles.includes('index')) {
      const anchor = followerOf(src.tenant.users.get(r.user), r.name, r.params[0] ?? '');
      const mappedAnchor =
        anchor === null
          ? null
          : mapUid(
              r.user,
              anchor,
              r.name === 'ReorderBacklog' ? 'backlog' : r.name === 'ReorderWorkitem' ? 'workitem' : 'category',
              false,
            );
      params = [
        params[0] ?? '',
        indexBefore(listOf(targetUser(), r.name, params[0] ?? ''), params[0] ?? '', mappedAnchor, r.params[1] ?? ''),
      ];
    }
    let name = r.name;
    if (opts.mode === 'merge') {
      if (existing.has(signature(r.when, r.name, r.params))) {
        skip('already in the target');
        continue;
      }
      const merged = mergeRule(targetUser(), name, params);
      if (merged === 'skip-missing') {
        skip('deletes something the target does not have');
        continue;
      }
      if (merged === 'skip-same') {
        skip('creates something the target already has, with the same name');
        continue;
      }
      if (merged !== null) [name, params] = merged;
    }
    const planned: PlannedRecord = { sourceLine: lineNumber, when: r.when, name, params };
    try {
      executeRecord(
        scratch,
        { seq: scratch.lastSeq + 1, when: r.when, user: opts.user, name, params },
        { ...ropts, now: r.when },
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (opts.mode === 'merge') {
        skip(`rejected by the target: ${message}`);
        continue;
      }
      throw new DomainError(
        err instanceof FkError ? err.code : 'FK_ILLEGAL_STATE',
        `line ${lineNumber}: cannot import ${r.name}: ${message}`,
        {
          lineNumber,
          seq: r.seq,
          cause: err,
        },
      );
    }
    scratch.lastSeq++;
    scratch.started = true;
    scratch.lastUser = opts.user;
    records.push(planned);
  }
  return { records, skipped, result: scratch };
}

type MergeOutcome = [StrategyName, string[]] | 'skip-missing' | 'skip-same' | null;

/** Merge's uid rules for creates and deletes; null: import the record as it is. */
function mergeRule(user: User | undefined, name: StrategyName, params: string[]): MergeOutcome {
  const uid = params[0] ?? '';
  const rename = (to: StrategyName, current: string | undefined, wanted: string | undefined): MergeOutcome =>
    current === wanted || wanted === undefined ? 'skip-same' : [to, [uid, wanted]];
  switch (name) {
    case 'CreateBacklog': {
      const b = user?.backlogs.get(uid);
      return b ? rename('RenameBacklog', b.name, params[1]) : null;
    }
    case 'CreateWorkitem': {
      const w = user?.workitems.get(uid);
      if (!w) return null;
      return w.isSealed() ? 'skip-same' : rename('RenameWorkitem', w.name, params[2]);
    }
    case 'CreateCategory': {
      const c = user?.categories.get(uid);
      return c ? rename('RenameCategory', c.name, params[2]) : null;
    }
    case 'DeleteBacklog':
      return user?.backlogs.has(uid) ? null : 'skip-missing';
    case 'DeleteWorkitem':
      return user?.workitems.has(uid) ? null : 'skip-missing';
    case 'DeleteCategory':
      return user?.categories.has(uid) ? null : 'skip-missing';
    default:
      return null;
  }
}
