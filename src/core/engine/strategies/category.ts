import { Category } from '../model';
import { alreadyExists, categoryOf, fail, param, parseIntParam, userOf, type StrategyContext } from './context';

/** CreateCategory("<category uid>", "<parent uid>", "<name>") */
export function createCategory(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const uid = param(ctx, 0);
  const parent = categoryOf(user, param(ctx, 1));
  if (user.categories.has(uid)) alreadyExists('category', uid);
  const c = new Category(uid, param(ctx, 2), false, ctx.record.when, parent);
  parent.children.add(c);
  user.categories.set(uid, c);
  parent.itemUpdated(ctx.record.when);
}

/** RenameCategory("<category uid>", "<new name>") */
export function renameCategory(ctx: StrategyContext): void {
  const c = categoryOf(userOf(ctx), param(ctx, 0));
  c.name = param(ctx, 1);
}

/** DeleteCategory("<category uid>", "") — deletes the whole subtree; workitems keep the uid. */
export function deleteCategory(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const c = categoryOf(user, param(ctx, 0));
  const drop = (n: Category): void => {
    for (const ch of [...n.children.values()]) drop(ch);
    for (const wuid of n.uses) user.workitems.get(wuid)?.categories.delete(n.uid);
    n.children.clear();
    user.categories.delete(n.uid);
  };
  drop(c);
  const parent = c.parent;
  if (!(parent instanceof Category)) fail(`Cannot delete category ${c.uid}`, 'KeyError', `'${c.uid}'`);
  parent.children.remove(c.uid);
  parent.itemUpdated(ctx.record.when);
}

/** ReorderCategory("<category uid>", "<new index>") */
export function reorderCategory(ctx: StrategyContext): void {
  const c = categoryOf(userOf(ctx), param(ctx, 0));
  const parent = c.parent;
  const index = parseIntParam(param(ctx, 1), 'index');
  if (parent instanceof Category) parent.children.move(c.uid, index);
  c.itemUpdated(ctx.record.when);
}
