import type { StrategyRecord } from '../../src/core/engine/records';
import { ACTION_KINDS, type Action, type ActionKind, unexpectedEnd } from './actions';

/**
 * The soak's first proof (pure): every action whose command exited 0 is in the exported history
 * exactly once, and an action whose command failed is there at most once. "Present" means the
 * action's own records are there: CreateBacklog(uid); CreateWorkitem(uid) (and, for an exit 0,
 * its AddPomodoro(uid) too); StartTimer(uid); a void's AddInterruption(…, reason) followed by an
 * accepted StopTimer before the next StartTimer. Any of those records found twice is a duplicate;
 * one that no attempted action explains (an unknown uid or reason, a StopTimer more than the voids
 * that reached the history) is counted as unexplained.
 */
export interface KindCounts {
  attempted: number;
  ok: number;
  present: number;
  /** Failed (non-zero, killed) commands whose action is in the history anyway (allowed: once). */
  failedPresent: number;
  lost: number;
  duplicated: number;
}

export interface HistoryReport {
  readonly byKind: Readonly<Record<ActionKind, KindCounts>>;
  readonly total: KindCounts;
  readonly unexplained: number;
  /** Commands that hung or ended with a status no fault excuses (1, 2, a signal we did not send). */
  readonly unexpectedEnds: number;
  /** One line per violation (lost, duplicated, unexplained, unexpected end), for the report. */
  readonly problems: string[];
}

const zero = (): KindCounts => ({ attempted: 0, ok: 0, present: 0, failedPresent: 0, lost: 0, duplicated: 0 });

function countBy(records: readonly StrategyRecord[], name: string, param: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) {
    if (r.name !== name) continue;
    const key = r.params[param] ?? '';
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

/** Whether an accepted StopTimer follows the AddInterruption at `index` before any StartTimer. */
function stoppedAfter(records: readonly StrategyRecord[], index: number): boolean {
  for (const r of records.slice(index + 1)) {
    if (r.name === 'StopTimer') return true;
    if (r.name === 'StartTimer') return false;
  }
  return false;
}

/**
 * `records`: the exported history in order. `seeded`: records written before the soak started
 * (they explain themselves: the CreateUser and the seed backlog).
 */
export function checkHistory(
  records: readonly StrategyRecord[],
  actions: readonly Action[],
  seeded: number,
): HistoryReport {
  const soak = records.slice(seeded);
  const backlogs = countBy(soak, 'CreateBacklog', 0);
  const workitems = countBy(soak, 'CreateWorkitem', 0);
  const pomodoros = countBy(soak, 'AddPomodoro', 0);
  const starts = countBy(soak, 'StartTimer', 0);
  const interruptions = countBy(soak, 'AddInterruption', 1);
  const byKind = Object.fromEntries(ACTION_KINDS.map((k) => [k, zero()])) as Record<ActionKind, KindCounts>;
  const problems: string[] = [];
  let unexpectedEnds = 0;
  let voidsPresent = 0;

  for (const a of actions) {
    const c = byKind[a.intent.kind];
    const ok = a.outcome.code === 0 && !a.outcome.killed && !a.outcome.hung;
    c.attempted++;
    if (ok) c.ok++;
    if (unexpectedEnd(a.outcome)) {
      unexpectedEnds++;
      const how = a.outcome.hung ? 'hung' : `exit ${String(a.outcome.code)}`;
      problems.push(`unexpected end (${how}): ${describe(a)}: ${a.outcome.error}`);
    }
    // n: how many times the action's identifying record is there; complete: all of it is there.
    let n: number;
    let complete: boolean;
    let twice = false;
    const i = a.intent;
    if (i.kind === 'backlog') {
      n = backlogs.get(i.uid) ?? 0;
      complete = n === 1;
    } else if (i.kind === 'workitem') {
      n = workitems.get(i.uid) ?? 0;
      const p = pomodoros.get(i.uid) ?? 0;
      twice = p > 1;
      complete = n === 1 && p === 1;
    } else if (i.kind === 'start') {
      n = starts.get(i.workitem) ?? 0;
      complete = n === 1;
    } else {
      n = interruptions.get(i.reason) ?? 0;
      const at = soak.findIndex((r) => r.name === 'AddInterruption' && r.params[1] === i.reason);
      complete = n === 1 && stoppedAfter(soak, at);
      if (n > 0) voidsPresent++;
    }
    if (n > 0) {
      c.present++;
      if (!ok) c.failedPresent++;
    }
    if (n > 1 || twice) {
      c.duplicated++;
      problems.push(`duplicated (${n} times): ${describe(a)}`);
    }
    if (ok && !complete && n <= 1 && !twice) {
      c.lost++;
      problems.push(`lost (exit 0, ${n === 0 ? 'absent' : 'incomplete'}): ${describe(a)}`);
    }
  }

  const unexplained = findUnexplained(soak, actions, voidsPresent, problems);
  const total = zero();
  for (const c of Object.values(byKind))
    for (const key of Object.keys(total) as Array<keyof KindCounts>) total[key] += c[key];
  return { byKind, total, unexplained, unexpectedEnds, problems };
}

function findUnexplained(
  soak: readonly StrategyRecord[],
  actions: readonly Action[],
  voidsPresent: number,
  problems: string[],
): number {
  const known = new Set<string>();
  for (const { intent: i } of actions) {
    if (i.kind === 'backlog') known.add(`CreateBacklog/${i.uid}`);
    if (i.kind === 'workitem') known.add(`CreateWorkitem/${i.uid}`).add(`AddPomodoro/${i.uid}`);
    if (i.kind === 'start') known.add(`StartTimer/${i.workitem}`);
    if (i.kind === 'void') known.add(`AddInterruption/${i.reason}`);
  }
  let unexplained = 0;
  let stops = 0;
  for (const r of soak) {
    if (r.name === 'StopTimer') {
      stops++;
      continue;
    }
    const key = `${r.name}/${(r.name === 'AddInterruption' ? r.params[1] : r.params[0]) ?? ''}`;
    if (!known.has(key)) {
      unexplained++;
      problems.push(`unexplained record: seq ${r.seq} ${r.name}(${r.params.join(', ')})`);
    }
  }
  if (stops > voidsPresent) {
    unexplained += stops - voidsPresent;
    problems.push(`unexplained records: ${stops} StopTimer for ${voidsPresent} voids in the history`);
  }
  return unexplained;
}

export function describe(a: Action): string {
  const i = a.intent;
  const what =
    i.kind === 'backlog'
      ? `backlog create ${i.name} --id ${i.uid}`
      : i.kind === 'workitem'
        ? `workitem add ${i.backlog} ${i.name} --id ${i.uid}`
        : i.kind === 'start'
          ? `start ${i.workitem}`
          : `void --reason ${i.reason}`;
  return `lane ${a.lane}: fk ${what}`;
}
