import type { Micros } from '../clock';

/** Every persisted Flowkeeper strategy, by its wire name (kept exactly, STYLE §3). */
export const STRATEGY_NAMES = [
  'CreateUser',
  'DeleteUser',
  'RenameUser',
  'CreateBacklog',
  'DeleteBacklog',
  'RenameBacklog',
  'ReorderBacklog',
  'CreateCategory',
  'DeleteCategory',
  'RenameCategory',
  'ReorderCategory',
  'CreateWorkitem',
  'DeleteWorkitem',
  'RenameWorkitem',
  'CompleteWorkitem',
  'RestoreWorkitem',
  'ReorderWorkitem',
  'MoveWorkitem',
  'UpdateWorkitemCategories',
  'AddPomodoro',
  'RemovePomodoro',
  'AddInterruption',
  'StartTimer',
  'StopTimer',
  'StartWork',
  'VoidPomodoro',
  'FinishTracking',
] as const;

export type StrategyName = (typeof STRATEGY_NAMES)[number];

const NAME_SET: ReadonlySet<string> = new Set(STRATEGY_NAMES);

/** Strategies whose first parameter is the uid of an existing workitem. */
export const WORKITEM_STRATEGIES: ReadonlySet<StrategyName> = new Set<StrategyName>([
  'RenameWorkitem',
  'DeleteWorkitem',
  'CompleteWorkitem',
  'RestoreWorkitem',
  'ReorderWorkitem',
  'MoveWorkitem',
  'UpdateWorkitemCategories',
  'AddPomodoro',
  'RemovePomodoro',
  'AddInterruption',
  'StartTimer',
  'StartWork',
  'VoidPomodoro',
  'FinishTracking',
]);

export function isStrategyName(name: string): name is StrategyName {
  return NAME_SET.has(name);
}

/** One line of history: who did what, when, with which (string) parameters. */
export interface StrategyRecord {
  readonly seq: number;
  readonly when: Micros;
  /**
   * The UTC offset (µs) the timestamp was written with, or null when it had none (a naive
   * Python datetime, which Flowkeeper cannot compare with others). Absent means UTC.
   */
  readonly zone?: number | null;
  readonly user: string;
  readonly name: StrategyName;
  readonly params: readonly string[];
}

/** Renumbers records 1..n (the only numbering Flowkeeper accepts in a new file: strictly consecutive). */
export function renumbered(records: readonly StrategyRecord[]): StrategyRecord[] {
  return records.map((r, i) => (r.seq === i + 1 ? r : { ...r, seq: i + 1 }));
}
