import type { Refusal } from '../../errors';
import { ADMIN_USER, User } from '../model';
import { formatDate } from '../time';
import { actingUser, alreadyExists, fail, isNaive, notFound, param, type StrategyContext, whenOf } from './context';
import { deleteBacklogOf } from './backlog';
import { autoSeal } from './timerTransitions';

/** Only Flowkeeper's built-in `admin@local.host` manages users. */
const isAdmin = (identity: string): boolean => identity === ADMIN_USER;

const adminOnly = (identity: string): Refusal => ({ rule: 'admin-only', entity: 'user', uid: identity });
const systemUser = (identity: string): Refusal => ({ rule: 'system-user', entity: 'user', uid: identity });

/** CreateUser("<identity>", "<name>") — by the admin only. */
export function createUser(ctx: StrategyContext): void {
  const identity = param(ctx, 0);
  if (!isAdmin(ctx.record.user)) {
    fail(`A non-System user "${ctx.record.user}" tries to create user "${identity}"`, adminOnly(identity));
  }
  if (ctx.tenant.users.has(identity)) alreadyExists('user', identity);
  const when = ctx.record.when;
  const u = new User(identity, param(ctx, 1), false, when, formatDate(ctx.now), ctx.tenant, isNaive(ctx));
  ctx.tenant.users.add(u);
  u.itemUpdated(when, isNaive(ctx));
}

/**
 * DeleteUser("<identity>", "") — by the admin only, never the admin itself. Flowkeeper deletes the
 * backlogs while it walks their list, so it deletes every other one (the 1st, 3rd, …) before the
 * user goes with the rest; that shows when one of those deletions fails.
 */
export function deleteUser(ctx: StrategyContext): void {
  autoSeal(actingUser(ctx), whenOf(ctx));
  const identity = param(ctx, 0);
  const target = ctx.tenant.users.get(identity) ?? notFound('user', identity);
  if (target.isSystem) fail('Not allowed to delete System user', systemUser(identity));
  if (!isAdmin(ctx.record.user)) {
    fail(`A non-System user "${ctx.record.user}" tries to delete user "${identity}"`, adminOnly(identity));
  }
  const list = target.backlogs.values();
  for (let i = 0; i < list.length; i++) deleteBacklogOf(ctx, target, list[i] as (typeof list)[number]);
  target.itemUpdated(ctx.record.when, isNaive(ctx));
  ctx.tenant.users.remove(identity);
}

/** RenameUser("<identity>", "<new name>") — the admin renames anyone but itself; a user renames itself. */
export function renameUser(ctx: StrategyContext): void {
  const identity = param(ctx, 0);
  const u = ctx.tenant.users.get(identity) ?? notFound('user', identity);
  if (u.isSystem) fail('Not allowed to rename System user', systemUser(identity));
  if (!isAdmin(ctx.record.user) && ctx.record.user !== identity) {
    fail(`A non-System user "${ctx.record.user}" tries to rename user "${identity}"`, adminOnly(identity));
  }
  const name = param(ctx, 1);
  if (name === u.name) return;
  u.name = name;
  u.itemUpdated(ctx.record.when, isNaive(ctx));
}
