import { Backlog, type User } from '../model';
import {
  actingUser,
  alreadyExists,
  intParam,
  isNaive,
  notFound,
  param,
  type StrategyContext,
  userOf,
  whenOf,
} from './context';
import { autoSeal } from './timerTransitions';
import { deleteWorkitemOf } from './workitem';

/** CreateBacklog("<backlog uid>", "<name>") */
export function createBacklog(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const uid = param(ctx, 0);
  if (user.backlogs.has(uid)) alreadyExists('backlog', uid);
  const b = new Backlog(uid, param(ctx, 1), ctx.record.when, user, isNaive(ctx));
  user.backlogs.add(b);
  b.itemUpdated(ctx.record.when, isNaive(ctx));
}

/** RenameBacklog("<backlog uid>", "<new name>") — the same name changes nothing. */
export function renameBacklog(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const uid = param(ctx, 0);
  const b = user.backlogs.get(uid) ?? notFound('backlog', uid);
  const name = param(ctx, 1);
  if (name === b.name) return;
  b.name = name;
  b.itemUpdated(ctx.record.when, isNaive(ctx));
}

/**
 * Deletes backlog `b` of `user` (DeleteBacklog, or DeleteUser on the user's behalf): each
 * workitem goes the way DeleteWorkitem deletes it, which looks the uid up again, first backlog
 * first (so a twin in an earlier backlog is deleted instead).
 */
export function deleteBacklogOf(ctx: StrategyContext, user: User, b: Backlog): void {
  for (const w of [...b.workitems.values()]) deleteWorkitemOf(ctx, user, w.uid);
  b.itemUpdated(ctx.record.when, isNaive(ctx));
  user.backlogs.remove(b.uid);
  // a workitem whose uid an earlier backlog also holds was not the one deleted: it goes with its
  // backlog as it is (a pomodoro it runs keeps the timer running)
  for (const w of b.workitems.values()) user.workitems.remove(w);
}

/** DeleteBacklog("<backlog uid>", "") */
export function deleteBacklog(ctx: StrategyContext): void {
  autoSeal(actingUser(ctx), whenOf(ctx));
  const user = userOf(ctx);
  const uid = param(ctx, 0);
  deleteBacklogOf(ctx, user, user.backlogs.get(uid) ?? notFound('backlog', uid));
}

/** ReorderBacklog("<backlog uid>", "<new index>") */
export function reorderBacklog(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const uid = param(ctx, 0);
  const b = user.backlogs.get(uid) ?? notFound('backlog', uid);
  user.backlogs.move(b.uid, intParam(ctx, 1));
  user.itemUpdated(ctx.record.when, isNaive(ctx));
}
