import { Backlog } from '../model';
import { alreadyExists, backlogOf, param, parseIntParam, userOf, type StrategyContext } from './context';
import { sealTimer } from './timerTransitions';
import { removeWorkitem } from './workitem';

/** CreateBacklog("<backlog uid>", "<name>") */
export function createBacklog(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const uid = param(ctx, 0);
  if (user.backlogs.has(uid)) alreadyExists('backlog', uid);
  user.backlogs.add(new Backlog(uid, param(ctx, 1), ctx.record.when, user));
  user.itemUpdated(ctx.record.when);
}

/** RenameBacklog("<backlog uid>", "<new name>") */
export function renameBacklog(ctx: StrategyContext): void {
  const b = backlogOf(userOf(ctx), param(ctx, 0));
  b.name = param(ctx, 1);
  b.itemUpdated(ctx.record.when);
}

/** DeleteBacklog("<backlog uid>", "") — deletes its workitems too, voiding a running pomodoro. */
export function deleteBacklog(ctx: StrategyContext): void {
  const user = userOf(ctx);
  sealTimer(user, ctx.record.when);
  const b = backlogOf(user, param(ctx, 0));
  for (const w of [...b.workitems.values()]) removeWorkitem(ctx, user, w);
  user.backlogs.remove(b.uid);
  user.itemUpdated(ctx.record.when);
}

/** ReorderBacklog("<backlog uid>", "<new index>") */
export function reorderBacklog(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const b = backlogOf(user, param(ctx, 0));
  user.backlogs.move(b.uid, parseIntParam(param(ctx, 1), 'index'));
  user.itemUpdated(ctx.record.when);
}
