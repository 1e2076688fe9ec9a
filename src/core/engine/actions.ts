import type { StrategyName } from './records';

/**
 * An action for a client to execute: a strategy's wire name and the string parameters Flowkeeper
 * writes for it. Build one with {@link actions} rather than by hand: the builder knows each
 * strategy's parameter order and its empty placeholders (`StopTimer("", "")`).
 */
export interface Action<N extends StrategyName = StrategyName> {
  readonly name: N;
  readonly params: readonly string[];
}

/** The pomodoro kinds AddPomodoro takes: a timed pomodoro, a count-up tracker, a counter. */
export type PomodoroKind = 'normal' | 'tracker' | 'counter';

const act = <N extends StrategyName>(name: N, ...params: string[]): Action<N> => ({ name, params });
/** Category uids as Flowkeeper joins them in one parameter. */
const uids = (list: readonly string[] | undefined): string => (list ?? []).join(';');

/**
 * One builder per strategy, named after it (`stopTimer()` → `StopTimer("", "")`). Durations are
 * seconds; indexes are 0-based positions as Flowkeeper's Reorder* strategies take them.
 *
 * @example
 * await client.execute(actions.createWorkitem({ uid, backlog: b.uid, name: 'Write the report' }));
 * await client.execute(actions.startTimer({ workitem: uid, work: 1500, rest: 300 }));
 */
export const actions = {
  createUser: (a: { identity: string; name: string }) => act('CreateUser', a.identity, a.name),
  renameUser: (a: { identity: string; name: string }) => act('RenameUser', a.identity, a.name),
  deleteUser: (a: { identity: string }) => act('DeleteUser', a.identity, ''),

  createBacklog: (a: { uid: string; name: string }) => act('CreateBacklog', a.uid, a.name),
  renameBacklog: (a: { uid: string; name: string }) => act('RenameBacklog', a.uid, a.name),
  deleteBacklog: (a: { uid: string }) => act('DeleteBacklog', a.uid, ''),
  reorderBacklog: (a: { uid: string; index: number }) => act('ReorderBacklog', a.uid, String(a.index)),

  createCategory: (a: { uid: string; parent: string; name: string }) => act('CreateCategory', a.uid, a.parent, a.name),
  renameCategory: (a: { uid: string; name: string }) => act('RenameCategory', a.uid, a.name),
  deleteCategory: (a: { uid: string }) => act('DeleteCategory', a.uid, ''),
  reorderCategory: (a: { uid: string; index: number }) => act('ReorderCategory', a.uid, String(a.index)),

  /** Without categories, the three parameters Flowkeeper writes for a plain workitem. */
  createWorkitem: (a: { uid: string; backlog: string; name: string; categories?: readonly string[] }) =>
    a.categories === undefined || a.categories.length === 0
      ? act('CreateWorkitem', a.uid, a.backlog, a.name)
      : act('CreateWorkitem', a.uid, a.backlog, a.name, uids(a.categories)),
  renameWorkitem: (a: { uid: string; name: string }) => act('RenameWorkitem', a.uid, a.name),
  completeWorkitem: (a: { uid: string; state: 'finished' | 'canceled' }) => act('CompleteWorkitem', a.uid, a.state),
  restoreWorkitem: (a: { uid: string }) => act('RestoreWorkitem', a.uid, ''),
  deleteWorkitem: (a: { uid: string }) => act('DeleteWorkitem', a.uid, ''),
  reorderWorkitem: (a: { uid: string; index: number }) => act('ReorderWorkitem', a.uid, String(a.index)),
  moveWorkitem: (a: { uid: string; backlog: string }) => act('MoveWorkitem', a.uid, a.backlog),
  updateWorkitemCategories: (a: { uid: string; remove?: readonly string[]; add?: readonly string[] }) =>
    act('UpdateWorkitemCategories', a.uid, uids(a.remove), uids(a.add)),

  addPomodoro: (a: { workitem: string; count: number; kind?: PomodoroKind }) =>
    act('AddPomodoro', a.workitem, String(a.count), a.kind ?? 'normal'),
  removePomodoro: (a: { workitem: string; count: number }) => act('RemovePomodoro', a.workitem, String(a.count)),
  /** `duration`: how long it lasted, in seconds; left out, the interruption has none. */
  addInterruption: (a: { workitem: string; reason: string; duration?: number }) =>
    act('AddInterruption', a.workitem, a.reason, a.duration === undefined ? '' : String(a.duration)),
  /**
   * Starts the workitem's next new pomodoro. `work` left out: a tracker (no work time, no rest);
   * `rest` 0 or left out: a long break after the work.
   */
  startTimer: (a: { workitem: string; work?: number; rest?: number }) =>
    a.work === undefined
      ? act('StartTimer', a.workitem, '')
      : act('StartTimer', a.workitem, String(a.work), String(a.rest ?? 0)),
  stopTimer: () => act('StopTimer', '', ''),
  voidPomodoro: (a: { workitem: string }) => act('VoidPomodoro', a.workitem),
  /** The older StartTimer (Flowkeeper reads it; it writes StartTimer now). */
  startWork: (a: { workitem: string; work: number; rest?: number }) =>
    a.rest === undefined
      ? act('StartWork', a.workitem, String(a.work))
      : act('StartWork', a.workitem, String(a.work), String(a.rest)),
  /** The older StopTimer (Flowkeeper reads it; it writes StopTimer now). */
  finishTracking: (a: { workitem: string }) => act('FinishTracking', a.workitem),
} satisfies { readonly [K in StrategyName as Uncapitalize<K>]: (a: never) => Action<K> };
