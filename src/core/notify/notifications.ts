import type { Micros } from '../clock';
import type { Pomodoro, TimerState, User } from '../engine/model';
import type { StrategyRecord } from '../engine/records';
import { addSecondsTo, formatInstant } from '../engine/time';
import { eventId, type DerivedEvent, type FkEvent, type FkEventType } from './event';

export * from './event';

/**
 * Derivation of the notification events (issue 6) from the model: PURE. A step is one record
 * applied; the diff of the model before and after it gives the record's events and the
 * transitions its seal rang. Transitions the timer rings by itself are projected from the model
 * (`upcomingTransitions`) without sealing it: the live model changes only by records.
 */

/** What the step's diff needs from the model before the step. Take one after every step. */
export interface TimerSnapshot {
  /** The live pomodoro object of the timer; its fields are read again after the step. */
  readonly pomodoro: Pomodoro | null;
  readonly state: TimerState;
  readonly dateRestStarted: Micros | null;
  /** What the timer was going to ring by itself (`upcomingTransitions`) before the step. */
  readonly upcoming: readonly DerivedEvent[];
}

export const IDLE_SNAPSHOT: TimerSnapshot = { pomodoro: null, state: 'idle', dateRestStarted: null, upcoming: [] };

export function snapshotTimer(user: User | undefined): TimerSnapshot {
  if (user === undefined || user.timer.pomodoro === null) return IDLE_SNAPSHOT;
  const p = user.timer.pomodoro;
  return {
    pomodoro: p,
    state: user.timer.state,
    dateRestStarted: p.dateRestStarted,
    upcoming: upcomingTransitions(user),
  };
}

/**
 * The transitions the running pomodoro of `user` goes through by itself, in order, read from the
 * model as the records left it (never sealed by a clock): a pomodoro in work rings its work end
 * and then, after a short rest, its rest end; one in a short rest rings its rest end. Long breaks
 * and trackers end only by a record. Instants are the ones `sealTimer` would stamp, so the events
 * equal those a record's seal derives later (same ids).
 */
export function upcomingTransitions(user: User | undefined): DerivedEvent[] {
  const t = user?.timer;
  const p = t?.pomodoro ?? null;
  if (user === undefined || t === undefined || p === null || p.type !== 'normal' || t.nextStateChange === null)
    return [];
  if (t.state === 'work') {
    const w = t.nextStateChange;
    const work = workEnded(user.identity, p, w);
    // The rest end as the engine will stamp it (same arithmetic, same zone).
    const end = addSecondsTo(w, t.nextZone, p.restDuration);
    if (p.restDuration <= 0 || end.problem !== null) return [work];
    return [work, completed(user.identity, p, w, end.t, null)];
  }
  if (t.state === 'rest') return [completed(user.identity, p, p.dateRestStarted, t.nextStateChange, null)];
  return [];
}

const secs = (us: Micros): number => us / 1_000_000;

function pomodoroEvent(
  user: string,
  p: Pomodoro,
  type: FkEventType,
  at: Micros,
  source: DerivedEvent['source'],
  fields: Partial<FkEvent>,
): DerivedEvent {
  const event: FkEvent = {
    id: eventId(user, p.workitem.uid, p.name, type, at, source === 'record' ? (fields.seq ?? null) : null),
    type,
    user,
    at: formatInstant(at),
    workitem: { uid: p.workitem.uid, name: p.workitem.name },
    pomodoro: p.name,
    pomodoroType: p.type,
    ...(p.type === 'normal' ? { workSeconds: p.workDuration, restSeconds: p.restDuration } : {}),
    ...fields,
  };
  return { event, at, source };
}

/**
 * Work ended by itself at `at`: `work.finished` (a short rest starts), or `longbreak.started` for
 * a rest of 0. The same event whether the daemon saw the model sealed or only projected it.
 */
export function workEnded(user: string, p: Pomodoro, at: Micros): DerivedEvent {
  const workStart = p.dateWorkStarted;
  const started =
    workStart === null ? {} : { startedAt: formatInstant(workStart), elapsedSeconds: secs(at - workStart) };
  if (p.restDuration === 0)
    return pomodoroEvent(user, p, 'longbreak.started', at, 'timer', { ...started, endsAt: null, longBreak: true });
  const end = addSecondsTo(at, 0, p.restDuration);
  const endsAt = end.problem === null ? formatInstant(end.t) : null;
  return pomodoroEvent(user, p, 'work.finished', at, 'timer', { ...started, endsAt, longBreak: false });
}

/**
 * The pomodoro completed at `at`: `rest.finished` (a short rest ended by itself, or StopTimer ended
 * a long break: then `record` is set), or a tracker's `work.finished` (always a record).
 */
export function completed(
  user: string,
  p: Pomodoro,
  restStart: Micros | null,
  at: Micros,
  record: StrategyRecord | null,
): DerivedEvent {
  // Rings by itself only at the end of a short rest; a long break or a tracker ends by StopTimer.
  const source = p.type === 'normal' && p.restDuration > 0 ? 'timer' : 'record';
  const seq = source === 'record' && record !== null ? { seq: record.seq } : {};
  if (p.type !== 'normal') {
    const workStart = p.dateWorkStarted;
    const started =
      workStart === null ? {} : { startedAt: formatInstant(workStart), elapsedSeconds: secs(at - workStart) };
    return pomodoroEvent(user, p, 'work.finished', at, source, { ...started, endsAt: null, ...seq });
  }
  const started =
    restStart === null ? {} : { startedAt: formatInstant(restStart), elapsedSeconds: secs(at - restStart) };
  return pomodoroEvent(user, p, 'rest.finished', at, source, { ...started, longBreak: p.restDuration === 0, ...seq });
}

/**
 * The transitions the pomodoro that ran before the step went through during it, in order:
 * work → rest (`work.finished`, or `longbreak.started` for a rest of 0), rest → finished
 * (`rest.finished`; a tracker's stop is its `work.finished`), or back to new (`pomodoro.voided`,
 * design point 8). A late seal may ring twice in one step (work → rest → finished).
 */
function transitions(user: string, before: TimerSnapshot, record: StrategyRecord | null): DerivedEvent[] {
  const p = before.pomodoro;
  if (p === null || before.state === 'idle') return [];
  const out: DerivedEvent[] = [];
  const workStart = p.dateWorkStarted;
  if (
    before.state === 'work' &&
    p.type === 'normal' &&
    p.dateRestStarted !== null &&
    p.dateRestStarted !== before.dateRestStarted
  ) {
    out.push(workEnded(user, p, p.dateRestStarted));
  }
  if (p.state === 'finished' && p.dateCompleted !== null) {
    out.push(completed(user, p, p.dateRestStarted, p.dateCompleted, record));
  } else if (p.state === 'new' && record !== null) {
    const iv = p.workitem.intervals[p.workitem.intervals.length - 1];
    const at = iv?.ended ?? record.when;
    const phase = p.dateRestStarted !== null ? 'rest' : 'work';
    out.push(
      pomodoroEvent(user, p, 'pomodoro.voided', at, 'record', {
        phase,
        ...(workStart === null ? {} : { startedAt: formatInstant(workStart), elapsedSeconds: secs(at - workStart) }),
        seq: record.seq,
      }),
    );
  }
  return out;
}

/** Events a user action causes by itself (besides the transitions it triggers). */
function actions(u: User, record: StrategyRecord): DerivedEvent[] {
  const user = u.identity;
  switch (record.name) {
    case 'StartTimer':
    case 'StartWork': {
      const p = u.timer.pomodoro;
      if (p === null || u.timer.state !== 'work' || p.dateWorkStarted !== record.when) return [];
      const endsAt = u.timer.nextStateChange === null ? null : formatInstant(u.timer.nextStateChange);
      return [pomodoroEvent(user, p, 'work.started', record.when, 'record', { endsAt, seq: record.seq })];
    }
    case 'AddInterruption': {
      const p = u.workitems.get(record.params[0] ?? '')?.runningPomodoro();
      const i = p?.interruptions[p.interruptions.length - 1];
      if (p === undefined || i === undefined || i.createDate !== record.when) return [];
      return [
        pomodoroEvent(user, p, 'interruption.added', record.when, 'record', {
          reason: i.reason,
          durationSeconds: i.duration,
          seq: record.seq,
        }),
      ];
    }
    case 'CompleteWorkitem': {
      const w = u.workitems.get(record.params[0] ?? '');
      if (w === undefined || (w.state !== 'finished' && w.state !== 'canceled') || w.dateWorkEnded !== record.when)
        return [];
      const event: FkEvent = {
        id: eventId(user, w.uid, null, 'workitem.completed', record.when, record.seq),
        type: 'workitem.completed',
        user,
        at: formatInstant(record.when),
        workitem: { uid: w.uid, name: w.name },
        pomodoro: null,
        state: w.state,
        seq: record.seq,
      };
      return [{ event, at: record.when, source: 'record' }];
    }
    default:
      return [];
  }
}

/**
 * The events of one step for `user` (the model AFTER the step), given the snapshot taken before
 * it. `record` is the record applied, or null when the timer was sealed (a transition at its
 * planned instant). Records of other users cause nothing here. Ordered by instant.
 */
export function deriveEvents(
  user: User | undefined,
  before: TimerSnapshot,
  record: StrategyRecord | null,
): DerivedEvent[] {
  if (user === undefined) return [];
  if (record !== null && record.user !== user.identity) return [];
  const out = transitions(user.identity, before, record);
  if (record !== null) out.push(...actions(user, record));
  return out.sort((a, b) => a.at - b.at);
}
