import type { Micros } from '../clock';
import type { User } from '../engine/model';
import { addSecondsTo, formatInstant, localDate } from '../engine/time';

/** What the timer of a user shows at `now`: pure maths over the (sealed) model. */
export interface TimerView {
  readonly state: 'idle' | 'work' | 'rest' | 'long-break' | 'tracking';
  readonly workitem: { readonly uid: string; readonly name: string } | null;
  readonly pomodoro: string | null;
  /** When the current phase started. */
  readonly since: string | null;
  /** When the current phase ends by itself; null for idle, trackers and long breaks. */
  readonly until: string | null;
  /** Seconds left in the phase (null where it does not end by itself). */
  readonly remainingSeconds: number | null;
  /** Seconds since the phase started. */
  readonly elapsedSeconds: number | null;
  readonly pomodoroInSeries: number;
}

/**
 * The timer at `now`, from a model sealed at any earlier instant (or not at all): transitions due
 * by `now` are projected, not applied (the model is not changed), with the instants and the
 * series count `sealTimer` would give them.
 */
export function timerAt(user: User, now: Micros): TimerView {
  const t = user.timer;
  const p = t.pomodoro;
  let phase = t.state;
  let since = t.lastStateChange;
  let until = t.nextStateChange;
  let series = t.pomodoroInSeries;
  if (p !== null && p.type === 'normal' && phase === 'work' && until !== null && now >= until) {
    // As the engine rings it (timerTransitions.ts): the rest and today's series count.
    const w = until;
    const end = addSecondsTo(w, t.nextZone, p.restDuration);
    phase = 'rest';
    since = w;
    until = p.restDuration > 0 && end.problem === null ? end.t : null;
    series = until === null ? 0 : (t.lastDate === localDate(w, t.nextZone) ? series : 0) + 1;
  }
  if (phase === 'rest' && until !== null && now >= until) phase = 'idle';
  if (phase === 'idle' || p === null) {
    return {
      state: 'idle',
      workitem: null,
      pomodoro: null,
      since: null,
      until: null,
      remainingSeconds: null,
      elapsedSeconds: null,
      pomodoroInSeries: series,
    };
  }
  const state = p.type !== 'normal' ? 'tracking' : phase === 'rest' && until === null ? 'long-break' : phase;
  return {
    state,
    workitem: { uid: p.workitem.uid, name: p.workitem.name },
    pomodoro: p.name,
    since: since === null ? null : formatInstant(since),
    until: until === null ? null : formatInstant(until),
    remainingSeconds: until === null ? null : Math.max(0, (until - now) / 1_000_000),
    elapsedSeconds: since === null ? null : Math.max(0, (now - since) / 1_000_000),
    pomodoroInSeries: series,
  };
}

/**
 * Seconds as "m:ss" for the timer's human lines: rounded to the second, minutes not folded into
 * hours (3600 → "60:00"), as a Pomodoro clock shows them.
 */
export function mmss(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The next instant at which the timer changes by itself, or null. */
export function nextDeadline(user: User): Micros | null {
  return user.timer.pomodoro === null ? null : user.timer.nextStateChange;
}
