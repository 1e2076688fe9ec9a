import { type Category, RefSet, type User, Workitem, type WorkitemState } from '../model';
import {
  actingUser,
  BAD_PARAMETER,
  sealed,
  alreadyExists,
  fail,
  findWorkitem,
  intParam,
  isNaive,
  notFound,
  param,
  type StrategyContext,
  userOf,
  whenOf,
} from './context';
import { addInterruptionFor } from './pomodoro';
import { addTags, removeTags, renameTags, tagsOf } from './tags';
import { autoSeal, stopTimer } from './timerTransitions';

const INTERRUPTED_BY_COMPLETION = 'The item was marked completed before Pomodoro rang';

/** A `;`-separated list of category uids; each must exist in the user's tree (else KeyError). */
function resolveCategories(user: User, list: string): RefSet<Category> {
  const out = new RefSet<Category>();
  if (list === '') return out;
  for (const uid of list.split(';')) {
    const c = user.categories.get(uid) ?? notFound('category', uid, 'KeyError');
    out.add(uid, c);
  }
  return out;
}

/**
 * CreateWorkitem("<workitem uid>", "<backlog uid>", "<name>"[, "<category uid>;…"]) — the uid must
 * be new in its backlog only. The categories are assigned without registering the workitem with
 * them (as Flowkeeper does), so deleting either later can raise KeyError.
 */
export function createWorkitem(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const backlogUid = param(ctx, 1);
  const b = user.backlogs.get(backlogUid) ?? notFound('backlog', backlogUid);
  const uid = param(ctx, 0);
  if (b.workitems.has(uid)) alreadyExists('workitem', uid);
  const categories = resolveCategories(user, ctx.record.params[3] ?? '');
  const w = new Workitem(uid, param(ctx, 2), ctx.record.when, b, isNaive(ctx));
  w.categories = categories;
  b.workitems.add(w);
  user.workitems.add(w);
  w.itemUpdated(ctx.record.when, isNaive(ctx));
  addTags(user, w, ctx.record.when, isNaive(ctx));
}

/** RenameWorkitem("<workitem uid>", "<new name>") — the same name changes nothing, even when sealed. */
export function renameWorkitem(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const w = findWorkitem(user, param(ctx, 0));
  const name = param(ctx, 1);
  if (name === w.name) return;
  if (w.isSealed()) fail(`Cannot rename sealed workitem "${w.uid}"`, sealed(w.uid));
  const before = tagsOf(w.name);
  w.name = name;
  w.itemUpdated(ctx.record.when, isNaive(ctx));
  renameTags(user, w, before, ctx.record.when, isNaive(ctx));
}

/**
 * Deletes the workitem `uid` of `user` as DeleteWorkitem does: a running pomodoro is stopped (no
 * interruption), the workitem leaves its tags and categories (KeyError for one it never
 * registered with), then its backlog.
 */
export function deleteWorkitemOf(ctx: StrategyContext, user: User, uid: string): void {
  const w = findWorkitem(user, uid);
  const when = whenOf(ctx);
  if (w.runningPomodoro() !== undefined) stopTimer(user, when);
  w.itemUpdated(when.t, when.zone === null);
  removeTags(user, w);
  for (const [cuid, c] of w.categories.entries()) {
    if (!c.uses.delete(w.uid)) notFound('category', cuid, 'KeyError', `usage by workitem ${w.uid} of category`);
  }
  w.backlog.workitems.remove(w.uid);
  user.workitems.remove(w);
}

/** DeleteWorkitem("<workitem uid>", "") */
export function deleteWorkitem(ctx: StrategyContext): void {
  autoSeal(actingUser(ctx), whenOf(ctx));
  deleteWorkitemOf(ctx, userOf(ctx), param(ctx, 0));
}

/**
 * CompleteWorkitem("<workitem uid>", "finished"|"canceled") — a running pomodoro first gets an
 * interruption (not in a long break, not on a workitem with a tracker) and is stopped; only then
 * is the target state checked.
 */
export function completeWorkitem(ctx: StrategyContext): void {
  const user = actingUser(ctx);
  const when = whenOf(ctx);
  autoSeal(user, when);
  const w = findWorkitem(userOf(ctx), param(ctx, 0));
  if (w.isSealed()) fail(`Cannot complete already sealed workitem "${w.uid}"`, sealed(w.uid));
  const running = w.runningPomodoro();
  if (running !== undefined) {
    const longBreak = running.type === 'normal' && running.state === 'rest' && running.restDuration === 0;
    if (!longBreak && !w.isTracker()) addInterruptionFor(ctx, user, w.uid, INTERRUPTED_BY_COMPLETION, null);
    stopTimer(user, when);
  }
  const target = param(ctx, 1);
  if (target !== 'finished' && target !== 'canceled') fail(`Invalid workitem state: ${target}`, BAD_PARAMETER);
  w.state = target as WorkitemState;
  w.dateWorkEnded = when.t;
  w.itemUpdated(when.t, when.zone === null);
}

/** RestoreWorkitem("<workitem uid>", "") — back to running if it ever ran, else new. */
export function restoreWorkitem(ctx: StrategyContext): void {
  autoSeal(actingUser(ctx), whenOf(ctx));
  const w = findWorkitem(userOf(ctx), param(ctx, 0));
  if (!w.isSealed()) {
    fail(`Cannot restore a workitem which is not sealed "${w.uid}"`, {
      rule: 'not-sealed',
      entity: 'workitem',
      uid: w.uid,
    });
  }
  w.state = w.intervals.length > 0 ? 'running' : 'new';
  w.dateWorkEnded = null;
  w.itemUpdated(ctx.record.when, isNaive(ctx));
}

/** ReorderWorkitem("<workitem uid>", "<new index>") — stamps the backlog, not the workitem. */
export function reorderWorkitem(ctx: StrategyContext): void {
  const w = findWorkitem(userOf(ctx), param(ctx, 0));
  const b = w.backlog;
  b.workitems.move(w.uid, intParam(ctx, 1));
  b.itemUpdated(ctx.record.when, isNaive(ctx));
}

/**
 * MoveWorkitem("<workitem uid>", "<target backlog uid>") — to the end of the target (even the
 * same backlog). If the target already holds that uid, Flowkeeper takes the workitem out of its
 * backlog and adds it nowhere.
 */
export function moveWorkitem(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const toUid = param(ctx, 1);
  const to = user.backlogs.get(toUid) ?? notFound('backlog', toUid);
  const w = findWorkitem(user, param(ctx, 0));
  const from = w.backlog;
  from.workitems.remove(w.uid);
  if (to.workitems.has(w.uid)) user.workitems.remove(w);
  else to.workitems.add(w);
  w.backlog = to;
  w.parent = to;
  from.itemUpdated(ctx.record.when, isNaive(ctx));
  w.itemUpdated(ctx.record.when, isNaive(ctx));
}

/**
 * UpdateWorkitemCategories("<workitem uid>", "<removed uid>;…", "<added uid>;…") — every uid must
 * exist; adding one the workitem has, or removing one it lacks, fails before any change.
 */
export function updateWorkitemCategories(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const w = findWorkitem(user, param(ctx, 0));
  const added = resolveCategories(user, param(ctx, 2));
  const removed = resolveCategories(user, param(ctx, 1));
  const assigned = { rule: 'category-assigned', entity: 'workitem', uid: w.uid } as const;
  const unassigned = { rule: 'category-not-assigned', entity: 'workitem', uid: w.uid } as const;
  for (const uid of added)
    if (w.categories.has(uid)) fail(`Trying to add duplicate categories to workitem "${w.uid}"`, assigned);
  for (const uid of removed)
    if (!w.categories.has(uid)) fail(`Trying to remove missing categories from "${w.uid}"`, unassigned);
  const next = new RefSet<Category>();
  for (const [uid, c] of w.categories.entries()) if (!removed.has(uid)) next.add(uid, c);
  for (const [uid, c] of added.entries()) next.add(uid, c);
  w.categories = next;
  w.itemUpdated(ctx.record.when, isNaive(ctx));
  for (const [, c] of added.entries()) c.uses.add(w.uid, w);
  for (const [uid, c] of removed.entries()) {
    if (!c.uses.delete(w.uid)) notFound('category', uid, 'KeyError', `usage by workitem ${w.uid} of category`);
  }
}
