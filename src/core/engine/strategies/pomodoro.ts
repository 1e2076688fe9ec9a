import { Interruption, Pomodoro, type PomodoroType } from '../model';
import { fail, param, parseFloatParam, parseIntParam, userOf, workitemOf, type StrategyContext } from './context';
import { sealTimer, startPomodoro, stopTimer, voidPomodoro } from './timerTransitions';

const TYPES: ReadonlySet<string> = new Set(['normal', 'tracker', 'counter']);

/** AddPomodoro("<workitem uid>", "<how many>"[, "normal"|"tracker"|"counter"]) */
export function addPomodoro(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const w = workitemOf(user, param(ctx, 0));
  const n = parseIntParam(param(ctx, 1), 'number of pomodoros');
  const type = ctx.record.params[2] ?? 'normal';
  if (!TYPES.has(type)) fail(`Unknown pomodoro type '${type}'`);
  if (n < 1) fail(`Cannot add ${n} pomodoros`);
  if (w.isSealed()) fail(`Cannot add pomodoro to a sealed workitem ${w.uid}`);
  const normal = type === 'normal';
  for (let i = 0; i < n; i++) {
    const p = new Pomodoro(
      ctx.newId(),
      `Pomodoro ${w.pomodoros.length + 1}`,
      type as PomodoroType,
      w.state === 'new',
      normal ? ctx.defaultWork : 0,
      normal ? ctx.defaultRest : 0,
      ctx.record.when,
      w,
    );
    w.pomodoros.push(p);
  }
  w.itemUpdated(ctx.record.when);
}

/** RemovePomodoro("<workitem uid>", "<how many>") — removes new pomodoros from the end. */
export function removePomodoro(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const w = workitemOf(user, param(ctx, 0));
  const n = parseIntParam(param(ctx, 1), 'number of pomodoros');
  if (w.isSealed()) fail(`Cannot remove pomodoro from a sealed workitem ${w.uid}`);
  for (let i = 0; i < n; i++) {
    const last = w.pomodoros[w.pomodoros.length - 1];
    if (last === undefined || last.state !== 'new') fail(`No pomodoro to remove in workitem ${w.uid}`);
    w.pomodoros.pop();
  }
  w.itemUpdated(ctx.record.when);
}

/** AddInterruption("<workitem uid>", "<reason>", "<duration in seconds or empty>") */
export function addInterruption(ctx: StrategyContext): void {
  const user = userOf(ctx);
  sealTimer(user, ctx.record.when);
  const w = workitemOf(user, param(ctx, 0));
  const p = w.runningPomodoro();
  if (p === undefined) fail(`No running pomodoro in workitem ${w.uid}`);
  const d = ctx.record.params[2] ?? '';
  const duration = d === '' ? null : parseFloatParam(d, 'interruption duration');
  const reason = ctx.record.params[1] ?? null;
  p.interruptions.push(new Interruption(ctx.newId(), reason, duration, false, ctx.record.when, p));
  p.itemUpdated(ctx.record.when);
}

/** StartTimer("<workitem uid>", "<work seconds>", "<rest seconds>") or StartTimer("<workitem uid>", "") for a tracker. */
export function startTimer(ctx: StrategyContext): void {
  const user = userOf(ctx);
  sealTimer(user, ctx.record.when);
  const w = workitemOf(user, param(ctx, 0));
  if (w.isSealed()) fail(`Cannot start sealed workitem ${w.uid}`);
  if (user.timer.state !== 'idle') fail(`Timer is already running`);
  const p = w.pomodoros.find((x) => x.state === 'new');
  if (p === undefined) fail(`No new pomodoros in workitem ${w.uid}`);
  const workText = ctx.record.params[1] ?? '';
  const restText = ctx.record.params[2] ?? '';
  const work = p.type === 'normal' ? (workText === '' ? p.workDuration : parseFloatParam(workText, 'work duration')) : 0;
  const rest = p.type === 'normal' ? (restText === '' ? p.restDuration : parseFloatParam(restText, 'rest duration')) : 0;
  startPomodoro(user, w, p, work, rest, ctx.record.when, ctx.now);
}

/** StartWork("<workitem uid>", "<work seconds>"[, "<rest seconds>"]) — the older form of StartTimer. */
export const startWork = startTimer;

/** StopTimer("", "") */
export function stopTimerStrategy(ctx: StrategyContext): void {
  const user = userOf(ctx);
  sealTimer(user, ctx.record.when);
  stopTimer(user, ctx.record.when, ctx.newId);
}

/** VoidPomodoro("<workitem uid>") — the older way to void the running pomodoro. */
export function voidPomodoroStrategy(ctx: StrategyContext): void {
  const user = userOf(ctx);
  sealTimer(user, ctx.record.when);
  const w = workitemOf(user, param(ctx, 0));
  const p = w.runningPomodoro();
  if (p === undefined) fail(`No running pomodoro in workitem ${w.uid}`);
  voidPomodoro(user, p, ctx.record.when, null, true, ctx.newId);
}

/** FinishTracking("<workitem uid>") — the older way to stop a tracker. */
export function finishTracking(ctx: StrategyContext): void {
  stopTimerStrategy(ctx);
}
