import { User } from '../model';
import { formatDate } from '../time';
import { alreadyExists, notFound, param, type StrategyContext } from './context';

/** CreateUser("<identity>", "<name>") */
export function createUser(ctx: StrategyContext): void {
  const identity = param(ctx, 0);
  if (ctx.tenant.users.has(identity)) alreadyExists('user', identity);
  const u = new User(identity, param(ctx, 1), false, ctx.record.when, formatDate(ctx.now), ctx.tenant);
  ctx.tenant.users.add(u);
  ctx.tenant.itemUpdated(ctx.record.when);
}

/** DeleteUser("<identity>", "") */
export function deleteUser(ctx: StrategyContext): void {
  const identity = param(ctx, 0);
  if (!ctx.tenant.users.has(identity)) notFound('user', identity);
  ctx.tenant.users.remove(identity);
  ctx.tenant.itemUpdated(ctx.record.when);
}

/** RenameUser("<identity>", "<new name>") */
export function renameUser(ctx: StrategyContext): void {
  const identity = param(ctx, 0);
  const u = ctx.tenant.users.get(identity) ?? notFound('user', identity);
  u.name = param(ctx, 1);
  u.itemUpdated(ctx.record.when);
}
