import { type Pomodoro, type User, Workitem, type WorkitemState } from '../model';
import { sealTimer, stopTimer, voidPomodoro } from './timerTransitions';
import {
  alreadyExists,
  backlogOf,
  categoryOf,
  fail,
  notFound,
  param,
  parseIntParam,
  userOf,
  workitemOf,
  type StrategyContext,
} from './context';
import { addTags, removeTags, renameTags } from './tags';

const VOID_ON_COMPLETE = 'The item was marked completed before Pomodoro rang';
const VOID_ON_DELETE = 'The item was deleted before Pomodoro rang';

/** CreateWorkitem("<workitem uid>", "<backlog uid>", "<name>"[, "<category uid>,…"]) */
export function createWorkitem(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const uid = param(ctx, 0);
  const b = backlogOf(user, param(ctx, 1));
  if (user.workitems.has(uid)) alreadyExists('workitem', uid);
  const w = new Workitem(uid, param(ctx, 2), ctx.record.when, b);
  const cats = ctx.record.params[3];
  if (cats !== undefined && cats !== '') for (const c of cats.split(',')) w.categories.add(c.trim());
  b.workitems.add(w);
  user.workitems.set(uid, w);
  addTags(user, w, ctx.record.when);
  b.itemUpdated(ctx.record.when);
}

/** RenameWorkitem("<workitem uid>", "<new name>") */
export function renameWorkitem(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const w = workitemOf(user, param(ctx, 0));
  if (w.isSealed()) fail(`Cannot rename sealed workitem ${w.uid}`);
  renameTags(user, w, param(ctx, 1), ctx.record.when);
  w.itemUpdated(ctx.record.when);
}

/**
 * Unregisters a workitem from a category. Like Flowkeeper (a Python `set.remove`), this raises
 * KeyError for a category that no longer exists or never registered the workitem (categories
 * given to CreateWorkitem are not registered), after whatever was already changed.
 */
function removeUsage(user: User, w: Workitem, uid: string): void {
  const c = categoryOf(user, uid);
  if (!c.uses.has(w.uid)) notFound('usage of category', uid);
  c.uses.delete(w.uid);
}

/** A tracker simply stops (it completes); a normal pomodoro is voided with an interruption (design point 8). */
function endRunning(ctx: StrategyContext, user: User, p: Pomodoro, reason: string): void {
  if (p.type === 'normal') voidPomodoro(user, p, ctx.record.when, reason, false, ctx.newId);
  else stopTimer(user, ctx.record.when, ctx.newId);
}

/** Removes a workitem from everything that knows it, voiding its running pomodoro first. */
export function removeWorkitem(ctx: StrategyContext, user: User, w: Workitem): void {
  const running = w.runningPomodoro();
  if (running) endRunning(ctx, user, running, VOID_ON_DELETE);
  for (const c of [...w.categories]) removeUsage(user, w, c);
  removeTags(user, w);
  w.backlog.workitems.remove(w.uid);
  user.workitems.delete(w.uid);
}

/** DeleteWorkitem("<workitem uid>", "") */
export function deleteWorkitem(ctx: StrategyContext): void {
  const user = userOf(ctx);
  sealTimer(user, ctx.record.when);
  const w = workitemOf(user, param(ctx, 0));
  removeWorkitem(ctx, user, w);
  w.backlog.itemUpdated(ctx.record.when);
}

/** CompleteWorkitem("<workitem uid>", "finished"|"canceled") */
export function completeWorkitem(ctx: StrategyContext): void {
  const user = userOf(ctx);
  sealTimer(user, ctx.record.when);
  const w = workitemOf(user, param(ctx, 0));
  const target = param(ctx, 1);
  if (target !== 'finished' && target !== 'canceled') fail(`Unknown workitem state '${target}'`);
  if (w.isSealed()) fail(`Cannot complete sealed workitem ${w.uid}`);
  const running = w.runningPomodoro();
  if (running) endRunning(ctx, user, running, VOID_ON_COMPLETE);
  w.state = target as WorkitemState;
  w.dateWorkEnded = ctx.record.when;
  w.itemUpdated(ctx.record.when);
}

/** RestoreWorkitem("<workitem uid>", "") — back to running if it ever ran, else new. */
export function restoreWorkitem(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const w = workitemOf(user, param(ctx, 0));
  if (!w.isSealed()) fail(`Cannot restore workitem ${w.uid}: it is not sealed`);
  w.state = w.intervals.length > 0 ? 'running' : 'new';
  w.dateWorkEnded = null;
  w.itemUpdated(ctx.record.when);
}

/** ReorderWorkitem("<workitem uid>", "<new index>") */
export function reorderWorkitem(ctx: StrategyContext): void {
  const w = workitemOf(userOf(ctx), param(ctx, 0));
  w.backlog.workitems.move(w.uid, parseIntParam(param(ctx, 1), 'index'));
  w.itemUpdated(ctx.record.when);
}

/** MoveWorkitem("<workitem uid>", "<target backlog uid>") */
export function moveWorkitem(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const w = workitemOf(user, param(ctx, 0));
  const to = backlogOf(user, param(ctx, 1));
  const from = w.backlog;
  from.workitems.remove(w.uid);
  from.itemUpdated(ctx.record.when);
  to.workitems.add(w);
  w.backlog = to;
  w.parent = to;
  w.itemUpdated(ctx.record.when);
}

/** UpdateWorkitemCategories("<workitem uid>", "<removed category uid>", "<added category uid>") */
export function updateWorkitemCategories(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const w = workitemOf(user, param(ctx, 0));
  const removed = param(ctx, 1);
  const added = param(ctx, 2);
  if (removed !== '') {
    w.categories.delete(removed);
    removeUsage(user, w, removed);
  }
  if (added !== '') {
    const c = categoryOf(user, added);
    w.categories.add(added);
    c.uses.add(w.uid);
  }
  w.itemUpdated(ctx.record.when);
}
