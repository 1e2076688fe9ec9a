import { Interruption, Pomodoro, type PomodoroType, type User } from '../model';
import { secondsToTimedelta } from '../time';
import {
  actingUser,
  BAD_PARAMETER,
  sealed,
  fail,
  findWorkitem,
  floatParam,
  intParam,
  isNaive,
  param,
  type StrategyContext,
  userOf,
  whenOf,
} from './context';
import { autoSeal, startPomodoro, stopTimer } from './timerTransitions';

const TYPES: ReadonlySet<string> = new Set(['normal', 'tracker', 'counter']);

/** AddPomodoro("<workitem uid>", "<how many>"[, "normal"|"tracker"|"counter"]) */
export function addPomodoro(ctx: StrategyContext): void {
  const n = intParam(ctx, 1);
  if (n < 1) fail(`Cannot add ${n} pomodoro`, BAD_PARAMETER);
  const type = ctx.record.params[2] ?? 'normal';
  if (!TYPES.has(type)) fail(`Unsupported pomodoro type: ${type}`, BAD_PARAMETER);
  const w = findWorkitem(userOf(ctx), param(ctx, 0));
  if (w.isSealed()) fail(`Workitem "${w.uid}" is sealed`, sealed(w.uid));
  const normal = type === 'normal';
  const planned = w.state !== 'running';
  const existing = w.pomodoros.length;
  for (let i = 0; i < n; i++) {
    const p = new Pomodoro(
      ctx.newId(),
      `Pomodoro ${existing + i + 1}`,
      type as PomodoroType,
      planned,
      normal ? ctx.defaultWork : 0,
      normal ? ctx.defaultRest : 0,
      ctx.record.when,
      w,
      isNaive(ctx),
    );
    w.pomodoros.push(p);
  }
  w.itemUpdated(ctx.record.when, isNaive(ctx));
}

/** RemovePomodoro("<workitem uid>", "<how many>") — the last `n` new pomodoros, or nothing if there are fewer. */
export function removePomodoro(ctx: StrategyContext): void {
  autoSeal(actingUser(ctx), whenOf(ctx));
  const n = intParam(ctx, 1);
  if (n < 1) fail(`Cannot remove ${n} pomodoro`, BAD_PARAMETER);
  const w = findWorkitem(userOf(ctx), param(ctx, 0));
  if (w.isSealed()) fail(`Workitem "${w.uid}" is sealed`, sealed(w.uid));
  const remove = new Set<Pomodoro>();
  for (let i = w.pomodoros.length - 1; i >= 0 && remove.size < n; i--) {
    const p = w.pomodoros[i] as Pomodoro;
    if (p.state === 'new') remove.add(p);
  }
  if (remove.size < n) {
    const refusal = { rule: 'too-few-planned', entity: 'workitem', uid: w.uid, available: remove.size } as const;
    fail(`Only ${remove.size} pomodoro is available, cannot remove ${n}`, refusal);
  }
  const keep = w.pomodoros.filter((p) => !remove.has(p));
  w.pomodoros.length = 0;
  w.pomodoros.push(...keep);
  w.itemUpdated(ctx.record.when, isNaive(ctx));
}

/** Adds an interruption to the running pomodoro of workitem `uid` (AddInterruption, also run by other strategies). */
export function addInterruptionFor(
  ctx: StrategyContext,
  user: User,
  uid: string,
  reason: string,
  us: number | null,
): void {
  const when = whenOf(ctx);
  const w = findWorkitem(user, uid);
  const p =
    w.runningPomodoro() ?? fail(`Workitem "${uid}" is not running`, { rule: 'not-running', entity: 'workitem', uid });
  const duration = us === null ? null : us / 1_000_000;
  p.interruptions.push(new Interruption(ctx.newId(), reason, duration, false, when.t, p, when.zone === null));
  p.itemUpdated(when.t, when.zone === null);
}

/** AddInterruption("<workitem uid>", "<reason>"[, "<duration in seconds>"]) */
export function addInterruption(ctx: StrategyContext): void {
  const user = actingUser(ctx);
  const when = whenOf(ctx);
  autoSeal(user, when);
  const d = ctx.record.params[2] ?? '';
  const durationUs = d === '' ? null : secondsToTimedelta(floatParam(ctx, 2)).us;
  addInterruptionFor(ctx, userOf(ctx), param(ctx, 0), param(ctx, 1), durationUs);
}

/**
 * StartTimer("<workitem uid>"[, "<work seconds>"[, "<rest seconds>"]]) — a missing or empty work
 * time means 0 (and then the rest is 0 too); a missing or empty rest means 0, a long break.
 */
export function startTimer(ctx: StrategyContext): void {
  const params = ctx.record.params;
  let work = 0;
  let rest = 0;
  if (params.length >= 2 && params[1] !== '') {
    work = floatParam(ctx, 1);
    if (params.length >= 3 && params[2] !== '') rest = floatParam(ctx, 2);
  }
  startTimerWith(ctx, work, rest);
}

function startTimerWith(ctx: StrategyContext, work: number, rest: number): void {
  const user = actingUser(ctx);
  const when = whenOf(ctx);
  autoSeal(user, when);
  if (user.timer.state !== 'idle') {
    const running = { rule: 'timer-running', entity: 'timer', uid: user.identity } as const;
    fail(`Cannot start timer for workitem ${param(ctx, 0)}, it is already running`, running);
  }
  const uid = param(ctx, 0);
  const w = findWorkitem(user, uid);
  if (w.isSealed()) fail(`Cannot start timer because workitem "${uid}" is sealed`, sealed(uid));
  const noneNew = { rule: 'no-planned-pomodoro', entity: 'workitem', uid } as const;
  const p =
    w.pomodoros.find((x) => x.state === 'new') ?? fail(`Cannot start timer: no new pomodoro in "${uid}"`, noneNew);
  startPomodoro(user, w, p, work, rest, when, ctx.now);
}

/** StartWork("<workitem uid>", "<work seconds>"[, "<rest seconds>"]) — the older StartTimer; no rest: the default. */
export function startWork(ctx: StrategyContext): void {
  const work = floatParam(ctx, 1);
  const rest = ctx.record.params.length === 3 ? floatParam(ctx, 2) : ctx.defaultRest;
  startTimerWith(ctx, work, rest);
}

/** StopTimer("", "") */
export function stopTimerStrategy(ctx: StrategyContext): void {
  const user = actingUser(ctx);
  const when = whenOf(ctx);
  autoSeal(user, when);
  stopTimer(user, when);
}

/** VoidPomodoro("<workitem uid>") — an interruption "Pomodoro voided", then the usual StopTimer. */
export function voidPomodoroStrategy(ctx: StrategyContext): void {
  const user = actingUser(ctx);
  const when = whenOf(ctx);
  autoSeal(user, when);
  addInterruptionFor(ctx, userOf(ctx), param(ctx, 0), 'Pomodoro voided', null);
  stopTimer(user, when);
}

/** FinishTracking("<workitem uid>") — the older way to stop the timer. */
export function finishTracking(ctx: StrategyContext): void {
  stopTimerStrategy(ctx);
}
