/**
 * What the soak's writers did: one entry per `fk` command, with what it was meant to record and
 * how the command ended. Every action carries a value no other action uses (a uid chosen with
 * `--id`, a void's `--reason`), so its records can be found in the exported history.
 */
export type Intent =
  /** `fk backlog create <name> --id <uid>`: CreateBacklog(uid, name). */
  | { readonly kind: 'backlog'; readonly uid: string; readonly name: string }
  /** `fk workitem add <backlog> <name> --pomodoros 1 --id <uid>`: CreateWorkitem + AddPomodoro(uid, 1). */
  | { readonly kind: 'workitem'; readonly uid: string; readonly backlog: string; readonly name: string }
  /** `fk start <uid>`: StartTimer(uid, work, rest). Each workitem is started once at most. */
  | { readonly kind: 'start'; readonly workitem: string }
  /** `fk void --reason <reason>`: AddInterruption(running workitem, reason) then StopTimer. */
  | { readonly kind: 'void'; readonly reason: string };

export type ActionKind = Intent['kind'];
export const ACTION_KINDS: readonly ActionKind[] = ['backlog', 'workitem', 'start', 'void'];

/** How a command ended. */
export interface Outcome {
  /** Exit status; null when a signal ended it. */
  readonly code: number | null;
  /** The fault injector killed it (SIGKILL) on purpose. */
  readonly killed: boolean;
  /** It did not end within the soak's deadline and was killed (a violation: commands must end). */
  readonly hung: boolean;
  /** The last line of its stderr (`fk: …`), for the report. */
  readonly error: string;
}

export interface Action {
  readonly lane: number;
  readonly intent: Intent;
  readonly outcome: Outcome;
}

/** Exit statuses a command may end with when it did not succeed: 3 (a rule said no) and 4 (backend). */
export const EXPECTED_FAILURES: ReadonlySet<number> = new Set([3, 4]);

/** A command that ended in a way no fault excuses: a hang, exit 1 (a bug) or 2 (bad input). */
export function unexpectedEnd(o: Outcome): boolean {
  if (o.hung) return true;
  if (o.killed) return false;
  return o.code === null || (o.code !== 0 && !EXPECTED_FAILURES.has(o.code));
}
