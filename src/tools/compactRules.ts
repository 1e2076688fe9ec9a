import type { Micros } from '../core/clock';
import type { User } from '../core/engine/model';
import { WORKITEM_STRATEGIES, type StrategyRecord } from '../core/engine/records';
import { createReplayState, executeRecord, type ReplayOptions } from '../core/engine/replay';
import { sealTimer } from '../core/engine/strategies/timerTransitions';
import { keyUid, recordKeys, timerKey, userKey } from './compactKeys';
import { createGroupBuilder, type CompactGroup } from './compactGroups';
import { coarseGroups, entityFineGroups } from './compactLifeGroups';
import { createLives } from './compactLives';
import { createPomodoroPairs, createUndoPairs } from './compactPairs';

/**
 * Proposals for `compactHistory` (compact.ts): groups of records whose removal (or, for
 * AddPomodoro, whose count reduction) is *expected* not to change the final state. Nothing here
 * has to be right: every proposal is verified by replaying, and refused when the state differs.
 * The better the proposals, the fewer verification rounds the search needs.
 *
 * The parts: the entity lives each record belongs to (compactLives.ts) and the proposals drawn
 * from them (compactLifeGroups.ts), records that undo one another (compactPairs.ts), and the
 * group builder that knows each record's state keys and latest effect (compactGroups.ts).
 */
export interface CompactAnalysis {
  /** Whole deleted entities: tried first. */
  readonly coarse: readonly CompactGroup[];
  /** Everything else, tried on what the coarse pass kept. */
  readonly fine: readonly CompactGroup[];
  /** Keys of the entities each record names (for attributing a replay failure). */
  readonly subjects: readonly (readonly string[])[];
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

const REORDERS: ReadonlySet<string> = new Set(['ReorderWorkitem', 'ReorderBacklog', 'ReorderCategory']);

/**
 * Replays the (valid) history once, attributes every record to the entity lives it touches, and
 * derives the proposals. Throws whatever a strict replay throws on an invalid history.
 */
export function analyseHistory(records: readonly StrategyRecord[], opts: ReplayOptions): CompactAnalysis {
  const state = createReplayState(opts.now);
  const groups = createGroupBuilder();
  const lives = createLives();
  const undo = createUndoPairs(groups);
  const pomodoros = createPomodoroPairs();
  const subjects: string[][] = [];
  const fine: CompactGroup[] = [];

  records.forEach((r, i) => {
    const user = state.tenant.users.get(r.user);
    if (user && SEALING.has(r.name)) sealTimer(user, r.when);
    const keys = recordKeys(r, user);
    subjects.push(subjectKeys(r, keys));
    groups.note(i, r, user, keys, effectOf(r, user, opts));
    const before = user ? positionBefore(r, user) : null;
    lives.attribute(r, i, user);
    const life = WORKITEM_STRATEGIES.has(r.name) ? lives.get('workitem', r.user, r.params[0] ?? '') : undefined;
    if (life) {
      const undone = undo.observe(r, i, life, user);
      if (undone) fine.push(undone);
      if (r.name === 'RemovePomodoro' && user) pomodoros.removed(r, i, user);
    }
    executeRecord(state, r, opts);
    state.lastUser = r.user;
    if (user && before !== null) {
      if (r.name === 'AddPomodoro') pomodoros.added(r, i, user, before);
      else if (positionOf(r, user) === before) fine.push(groups.group('superseded-reorder', [i]));
    }
  });

  fine.push(...pomodoros.groups(records, groups));
  for (const life of lives.all) fine.push(...entityFineGroups(life, records, groups.group));
  const idle = lives.idleStops;
  if (idle.length > 0) {
    fine.push(groups.group('idle-stop', idle, idle.length > 1 ? idle.map((i) => groups.group('idle-stop', [i])) : []));
  }
  return { coarse: coarseGroups(lives.all, groups.group, groups.touched), fine, subjects };
}

/** Position before the record: pomodoro count for AddPomodoro, list index for reorders. */
function positionBefore(r: StrategyRecord, user: User): number | null {
  if (r.name === 'AddPomodoro') return user.workitems.get(r.params[0] ?? '')?.pomodoros.length ?? null;
  if (REORDERS.has(r.name)) return positionOf(r, user);
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
  const num = (s: string | undefined, dflt: number): number =>
    s === undefined || s === '' || !Number.isFinite(Number(s)) ? dflt : Number(s);
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
  if (r.name === 'CreateUser' || r.name === 'DeleteUser' || r.name === 'RenameUser')
    out.push(userKey(r.params[0] ?? ''));
  return out;
}
