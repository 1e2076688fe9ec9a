import type { Micros } from '../../clock';
import { Interruption, type Pomodoro, type Timer, type User, type Workitem } from '../model';
import { formatDate, secondsToMicros } from '../time';

/**
 * Timer transitions that Flowkeeper computes and never persists (design points 4, 11, 12):
 * work -> rest when the work time is over, rest -> finished when the rest is over. A rest of 0 is
 * a long break that only StopTimer ends. Transitions are stamped at their planned instant, never
 * at the moment somebody notices them.
 */

const SEAL_MARGIN_US = 1_000_000;

function lastInterval(p: Pomodoro): { ended: Micros | null } | undefined {
  return p.workitem.intervals[p.workitem.intervals.length - 1];
}

function toIdle(timer: Timer, at: Micros): void {
  timer.state = 'idle';
  timer.pomodoro = null;
  timer.plannedDuration = 0;
  timer.remainingDuration = 0;
  timer.lastStateChange = at;
  timer.nextStateChange = null;
  timer.itemUpdated(at);
}

/** Work is over at `at`: the pomodoro rests (or starts a long break). */
function ringWork(timer: Timer, p: Pomodoro, at: Micros): void {
  p.state = 'rest';
  p.dateRestStarted = at;
  p.itemUpdated(at);
  timer.state = 'rest';
  timer.lastStateChange = at;
  const date = formatDate(at);
  if (p.restDuration === 0) {
    timer.pomodoroInSeries = 0;
    timer.plannedDuration = 0;
    timer.remainingDuration = 0;
    timer.nextStateChange = null;
  } else {
    timer.pomodoroInSeries = timer.lastDate === date ? timer.pomodoroInSeries + 1 : 1;
    timer.plannedDuration = p.restDuration;
    timer.remainingDuration = p.restDuration;
    timer.nextStateChange = at + secondsToMicros(p.restDuration);
  }
  timer.lastDate = date;
  timer.itemUpdated(at);
}

/** The pomodoro is complete at `at`. */
function finish(timer: Timer, p: Pomodoro, at: Micros): void {
  p.state = 'finished';
  p.dateCompleted = at;
  p.itemUpdated(at);
  toIdle(timer, at);
}

/** Rings every transition due by `now` (+1 s margin, as Flowkeeper does), possibly twice. */
export function sealTimer(user: User, now: Micros): void {
  const timer = user.timer;
  while (timer.pomodoro !== null && timer.nextStateChange !== null && now + SEAL_MARGIN_US >= timer.nextStateChange) {
    const at = timer.nextStateChange;
    const p = timer.pomodoro;
    if (timer.state === 'work') ringWork(timer, p, at);
    else finish(timer, p, at);
  }
}

/** True when `sealTimer(user, now)` would ring something (it then changes the model). */
export function sealIsDue(user: User, now: Micros): boolean {
  const timer = user.timer;
  return timer.pomodoro !== null && timer.nextStateChange !== null && now + SEAL_MARGIN_US >= timer.nextStateChange;
}

export function startPomodoro(user: User, w: Workitem, p: Pomodoro, work: number, rest: number, when: Micros, now: Micros): void {
  const timer = user.timer;
  p.state = 'work';
  p.dateWorkStarted = when;
  p.dateRestStarted = null;
  p.workDuration = work;
  p.restDuration = rest;
  p.itemUpdated(when);
  w.state = 'running';
  if (w.dateWorkStarted === null) w.dateWorkStarted = when;
  if (w.backlog.dateWorkStarted === null) w.backlog.dateWorkStarted = when;
  w.intervals.push({ started: when, ended: null, workDuration: work, restDuration: rest });
  w.itemUpdated(when);
  timer.state = 'work';
  timer.pomodoro = p;
  timer.lastStateChange = when;
  if (p.type === 'normal') {
    timer.plannedDuration = work;
    timer.remainingDuration = work;
    timer.nextStateChange = when + secondsToMicros(work);
  } else {
    const elapsed = Math.max(0, (now - when) / 1_000_000);
    timer.plannedDuration = elapsed;
    timer.remainingDuration = elapsed;
    timer.nextStateChange = null;
  }
  timer.itemUpdated(when);
}

/** Ends the running pomodoro early: it goes back to `new` (voided), its interval closes. */
export function voidPomodoro(user: User, p: Pomodoro, when: Micros, reason: string | null, isVoid: boolean, newId: () => string): void {
  if (reason !== null) p.interruptions.push(new Interruption(newId(), reason, null, isVoid, when, p));
  p.state = 'new';
  p.itemUpdated(when);
  const iv = lastInterval(p);
  if (iv) iv.ended = when;
  if (user.timer.pomodoro === p) toIdle(user.timer, when);
}

/** StopTimer: a tracker or a long break completes; a pomodoro in work or in its short rest is voided. */
export function stopTimer(user: User, when: Micros, newId: () => string): void {
  const timer = user.timer;
  const p = timer.pomodoro;
  if (p === null) {
    toIdle(timer, when);
    return;
  }
  const iv = lastInterval(p);
  if (p.type !== 'normal' || (timer.state === 'rest' && p.restDuration === 0)) {
    if (iv) iv.ended = when;
    finish(timer, p, when);
  } else {
    voidPomodoro(user, p, when, null, false, newId);
  }
}
