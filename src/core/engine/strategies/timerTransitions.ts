import { type Pomodoro, type Tenant, type Timer, throwNaiveAware, type User, type Workitem } from '../model';
import { addSecondsTo, localDate } from '../time';
import type { Refusal } from '../../errors';
import { fail, notFound, pyFail, type Stamp } from './context';

/**
 * The pomodoro and timer transitions of Flowkeeper, computed and never persisted (design points
 * 4, 11, 12): work -> rest when the work time is over, rest -> finished when the rest is over; a
 * rest of 0 (or less) is a long break that only StopTimer ends. Each step changes the model in
 * the same order as Flowkeeper, because a step that raises half-way (a date out of range, a
 * naive timestamp) leaves the part already done in place, and lenient replay shows it.
 */

/** A pomodoro of workitem `uid` cannot make the transition asked of it. */
const transition = (uid: string): Refusal => ({ rule: 'timer-transition', entity: 'workitem', uid });
const TIMER_TRANSITION: Refusal = { rule: 'timer-transition', entity: 'timer' };

/** `when + seconds`, or Python's OverflowError/ValueError. */
function plus(when: Stamp, seconds: number): number {
  const r = addSecondsTo(when.t, when.zone, seconds);
  if (r.problem !== null) pyFail(r.problem);
  return r.t;
}

function endInterval(w: Workitem, when: Stamp): void {
  const iv = w.intervals[w.intervals.length - 1];
  if (iv === undefined) {
    fail(`Workitem ${w.uid} has no interval to end`, transition(w.uid), 'IndexError', 'list index out of range');
  }
  iv.ended = when.t;
}

function setTimer(timer: Timer, state: Timer['state'], planned: number, when: Stamp): void {
  timer.state = state;
  timer.plannedDuration = planned;
  timer.remainingDuration = planned;
  timer.lastStateChange = when.t;
}

function timerIdle(timer: Timer, when: Stamp): void {
  setTimer(timer, 'idle', 0, when);
  timer.pomodoro = null;
  timer.nextStateChange = null;
  timer.itemUpdated(when.t, when.zone === null);
}

/** The timer starts `p`'s work; a normal pomodoro with a work time other than 0 will ring. */
function timerWork(timer: Timer, p: Pomodoro, work: number, when: Stamp): void {
  setTimer(timer, 'work', work, when);
  timer.pomodoro = p;
  if (work !== 0 && p.type === 'normal') {
    timer.nextStateChange = plus(when, work);
    timer.nextZone = when.zone;
  } else {
    timer.nextStateChange = null;
  }
  timer.itemUpdated(when.t, when.zone === null);
}

/** The timer rests: a short rest rings again and counts in today's series, a long one resets it. */
function timerRest(timer: Timer, rest: number, when: Stamp): void {
  setTimer(timer, 'rest', rest, when);
  const today = localDate(when.t, when.zone);
  if (timer.lastDate !== today) {
    timer.lastDate = today;
    timer.pomodoroInSeries = 0;
  }
  if (rest > 0 && timer.pomodoro?.type === 'normal') {
    timer.nextStateChange = plus(when, rest);
    timer.nextZone = when.zone;
    timer.pomodoroInSeries += 1;
  } else {
    timer.nextStateChange = null;
    timer.pomodoroInSeries = 0;
  }
  timer.itemUpdated(when.t, when.zone === null);
}

/** Pomodoro work starts: an interval opens first, even for a counter, which then refuses. */
export function startWork(p: Pomodoro, when: Stamp): void {
  const interval = { started: when.t, ended: null, workDuration: p.workDuration, restDuration: p.restDuration };
  p.workitem.intervals.push(interval);
  if (p.type === 'counter') fail("Pomodoros of type counter don't have work", transition(p.workitem.uid));
  p.state = 'work';
  p.dateWorkStarted = when.t;
  p.workStartedNaive = when.zone === null;
  p.stamp(when.t, when.zone === null);
}

function startRest(p: Pomodoro, when: Stamp): void {
  if (p.type !== 'normal') fail(`Pomodoros of type ${p.type} don't support rest`, transition(p.workitem.uid));
  p.state = 'rest';
  p.dateRestStarted = when.t;
  p.stamp(when.t, when.zone === null);
}

function finished(p: Pomodoro, when: Stamp): void {
  p.state = 'finished';
  p.dateCompleted = when.t;
  p.stamp(when.t, when.zone === null);
}

/** The pomodoro completes (Flowkeeper's `Pomodoro.seal`). */
function sealPomodoro(p: Pomodoro, when: Stamp): void {
  if (p.type === 'normal') {
    if (p.state === 'rest') {
      if (p.restDuration === 0) endInterval(p.workitem, when);
      finished(p, when);
    } else if (p.state === 'work') {
      // unreachable from the strategies (StopTimer voids a pomodoro in work); kept for the rule
      if (p.workStartedNaive !== (when.zone === null)) throwNaiveAware('compare');
      const start = { t: p.dateWorkStarted ?? when.t, zone: 0 };
      if (when.t > plus({ t: plus(start, p.workDuration), zone: 0 }, p.restDuration) - 5_000_000) finished(p, when);
    } else {
      fail(`Cannot seal normal pomodoro from ${p.state}`, transition(p.workitem.uid));
    }
  } else if (p.type === 'tracker') {
    if (p.state !== 'work') fail(`Cannot seal tracker pomodoro from ${p.state}`, transition(p.workitem.uid));
    finished(p, when);
    endInterval(p.workitem, when);
  } else {
    fail('Cannot seal counter pomodoro', transition(p.workitem.uid));
  }
}

/** The pomodoro ends early and goes back to `new` (Flowkeeper's `Pomodoro.void`). */
function voidPomodoro(p: Pomodoro, when: Stamp): void {
  if (p.type !== 'normal') fail(`Cannot void pomodoro of type ${p.type}`, transition(p.workitem.uid));
  if (p.state !== 'work' && p.state !== 'rest')
    fail(`Cannot void normal pomodoro from ${p.state}`, transition(p.workitem.uid));
  p.state = 'new';
  p.stamp(when.t, when.zone === null);
  endInterval(p.workitem, when);
}

/**
 * StartTimer on `p`: the workitem starts (if it was not running), a normal pomodoro takes the
 * given durations, work starts, the timer follows. A tracker's planned time is how long it has
 * run by `now` (Flowkeeper asks the wall clock).
 */
export function startPomodoro(
  user: User,
  w: Workitem,
  p: Pomodoro,
  work: number,
  rest: number,
  when: Stamp,
  now: number,
): void {
  if (w.state !== 'running') {
    w.state = 'running';
    w.dateWorkStarted = when.t;
    const b = w.backlog;
    if (b.dateWorkStarted !== null && b.workStartedNaive !== (when.zone === null)) throwNaiveAware('compare');
    if (b.dateWorkStarted === null || b.dateWorkStarted > when.t) {
      b.dateWorkStarted = when.t;
      b.workStartedNaive = when.zone === null;
    }
  }
  if (p.type === 'normal') {
    p.workDuration = work;
    p.restDuration = rest;
  }
  startWork(p, when);
  p.itemUpdated(when.t, when.zone === null);
  let planned = p.workDuration;
  if (p.type === 'tracker') {
    if (p.workStartedNaive) throwNaiveAware('subtract');
    planned = Math.max((now - (p.dateWorkStarted as number)) / 1_000_000, 0);
  }
  timerWork(user.timer, p, planned, when);
}

/** StopTimer: a pomodoro in work or with a short rest is voided; a long break or a tracker completes. */
export function stopTimer(user: User, when: Stamp): void {
  const timer = user.timer;
  const p = timer.pomodoro;
  if (timer.state === 'idle' || p === null) {
    fail('Cannot stop the timer, because it is not running', {
      rule: 'timer-idle',
      entity: 'timer',
      uid: user.identity,
    });
  }
  if (p.type !== 'normal' && p.type !== 'tracker') {
    fail(`Cannot stop the timer for a pomodoro of type ${p.type}`, transition(p.workitem.uid));
  }
  if (p.type === 'normal' && (p.restDuration > 0 || p.state === 'work')) voidPomodoro(p, when);
  else sealPomodoro(p, when);
  p.itemUpdated(when.t, when.zone === null);
  timerIdle(timer, when);
  timer.itemUpdated(when.t, when.zone === null);
}

/** The timer rings at `when` (its planned instant): work -> rest, or rest -> finished. */
function ring(user: User, when: Stamp): void {
  const timer = user.timer;
  const p = timer.pomodoro;
  if (timer.state === 'idle' || p === null) fail('The timer rings, but it was not running', TIMER_TRANSITION);
  if (timer.state === 'work') {
    if (p.type !== 'normal') fail('The timer should not ring for a tracker pomodoro', transition(p.workitem.uid));
    startRest(p, when);
    p.itemUpdated(when.t, when.zone === null);
    timerRest(timer, p.restDuration, when);
    timer.itemUpdated(when.t, when.zone === null);
  } else {
    sealPomodoro(p, when);
    p.itemUpdated(when.t, when.zone === null);
    timerIdle(timer, when);
    timer.itemUpdated(when.t, when.zone === null);
  }
}

/**
 * Rings every transition due by `when` + 1 s (Flowkeeper's margin for a series started right at
 * the ring), at most twice (work -> rest -> finished); stamped at the planned instant.
 */
export function autoSeal(user: User, when: Stamp, second = false): void {
  const timer = user.timer;
  const due = timer.nextStateChange;
  if (timer.state === 'idle' || due === null) return;
  const limit = plus(when, 1);
  if ((when.zone === null) !== (timer.nextZone === null)) throwNaiveAware('compare');
  if (limit < due) return;
  ring(user, { t: due, zone: timer.nextZone });
  if ((timer.state as Timer['state']) === 'idle') return;
  if (second) fail('The timer refuses to ring. This should never happen, please report it as a bug.', TIMER_TRANSITION);
  autoSeal(user, when, true);
}

/**
 * After loading a history, Flowkeeper seals the timer of the user of the last line that executed
 * successfully, at the wall clock `now` (a user that no longer exists is an error).
 */
export function sealAtEndOfHistory(tenant: Tenant, identity: string, now: number): void {
  const user = tenant.users.get(identity) ?? notFound('user', identity);
  autoSeal(user, { t: now, zone: 0 });
}

/** Rings what is due at `now` (UTC) for `user`, as Flowkeeper does before a sealing strategy. */
export function sealTimer(user: User, now: number): void {
  autoSeal(user, { t: now, zone: 0 });
}

/** True when `sealTimer(user, now)` would ring something (it then changes the model). */
export function sealIsDue(user: User, now: number): boolean {
  const timer = user.timer;
  const due = timer.nextStateChange;
  if (timer.state === 'idle' || due === null || timer.nextZone === null) return false;
  return now + 1_000_000 >= due;
}
