import type { Refusal } from '../../errors';
import { Category, type User } from '../model';
import { alreadyExists, fail, intParam, isNaive, notFound, param, type StrategyContext, userOf } from './context';

/** The user's category `uid`, anywhere in the tree (Flowkeeper's `find_category_by_id`), or null. */
function findCategory(user: User, uid: string): Category | null {
  return user.categories.get(uid) ?? null;
}

const rootCategory = (uid: string): Refusal => ({ rule: 'root-category', entity: 'category', uid });

/** CreateCategory("<category uid>", "<parent uid>", "<name>") */
export function createCategory(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const parentUid = param(ctx, 1);
  const parent = findCategory(user, parentUid) ?? notFound('category', parentUid, 'Exception', 'parent category');
  const uid = param(ctx, 0);
  if (findCategory(user, uid) !== null) alreadyExists('category', uid);
  const c = new Category(uid, param(ctx, 2), false, ctx.record.when, parent, isNaive(ctx));
  parent.children.add(c);
  user.categories.set(uid, c);
  c.itemUpdated(ctx.record.when, isNaive(ctx));
}

/**
 * Deletes category `c` the way Flowkeeper does: its children first (each the same way), then
 * it is stamped (with its ancestors), its workitems drop it, and it leaves its parent. `#root`
 * has no category parent: the last step raises KeyError and the emptied root stays.
 */
function deleteCategoryTree(ctx: StrategyContext, user: User, c: Category): void {
  for (const child of [...c.children.values()]) deleteCategoryTree(ctx, user, child);
  c.itemUpdated(ctx.record.when, isNaive(ctx));
  for (const [, w] of c.uses.entries()) {
    if (!w.categories.delete(c.uid)) notFound('category', c.uid, 'KeyError', `category of workitem ${w.uid}`);
  }
  const parent = c.parent;
  if (!(parent instanceof Category))
    fail(`Cannot delete category ${c.uid}`, rootCategory(c.uid), 'KeyError', `'${c.uid}'`);
  parent.children.remove(c.uid);
  user.categories.delete(c.uid);
}

/** DeleteCategory("<category uid>", "") — deletes the whole subtree (of `#root`: all but the root). */
export function deleteCategory(ctx: StrategyContext): void {
  const user = userOf(ctx);
  const uid = param(ctx, 0);
  deleteCategoryTree(ctx, user, findCategory(user, uid) ?? notFound('category', uid));
}

function nonRoot(user: User, uid: string, action: string): Category {
  const c = findCategory(user, uid) ?? notFound('category', uid);
  if (c.uid === '#root') fail(`Cannot ${action} root category`, rootCategory(c.uid));
  return c;
}

/** RenameCategory("<category uid>", "<new name>") — not `#root`; the same name changes nothing. */
export function renameCategory(ctx: StrategyContext): void {
  const c = nonRoot(userOf(ctx), param(ctx, 0), 'rename');
  const name = param(ctx, 1);
  if (name === c.name) return;
  c.name = name;
  c.itemUpdated(ctx.record.when, isNaive(ctx));
}

/** ReorderCategory("<category uid>", "<new index>") — not `#root`. */
export function reorderCategory(ctx: StrategyContext): void {
  const c = nonRoot(userOf(ctx), param(ctx, 0), 'reorder');
  const parent = c.parent as Category;
  parent.children.move(c.uid, intParam(ctx, 1));
  c.itemUpdated(ctx.record.when, isNaive(ctx));
}
