import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { DomainError } from '../../core/errors';
import type { Category, User } from '../../core/engine/model';
import {
  ensureUser,
  nameArg,
  positionArg,
  print,
  printJson,
  reorderIndex,
  resolveCategory,
  resolveWorkitem,
  userOf,
  withSession,
} from '../run';

const CAT = ['<category>', 'uid, unique uid prefix (4+ characters), name or unique start of a name'] as const;

interface Row {
  readonly uid: string;
  readonly name: string;
  readonly parent: string | null;
  readonly depth: number;
  readonly system: boolean;
  readonly workitems: number;
}

/** The category tree under `#root`, depth first, in its order. */
function rows(user: User): Row[] {
  const used = new Map<string, number>();
  for (const w of user.workitems.values()) for (const uid of w.categories) used.set(uid, (used.get(uid) ?? 0) + 1);
  const out: Row[] = [];
  const walk = (c: Category, depth: number): void => {
    for (const child of c.children.values()) {
      const workitems = used.get(child.uid) ?? 0;
      out.push({ uid: child.uid, name: child.name, parent: c.uid, depth, system: child.isSystem, workitems });
      walk(child, depth + 1);
    }
  };
  walk(user.rootCategory, 0);
  return out;
}

/** A category other than the root (which Flowkeeper refuses to rename, reorder or delete). */
function nonRoot(user: User, ref: string, action: string): Category {
  const c = resolveCategory(user, ref);
  if (c.uid === '#root') throw new DomainError('FK_ILLEGAL_STATE', `the root category cannot be ${action}`);
  return c;
}

/** `a,b` → the uids of those categories, joined as UpdateWorkitemCategories takes them. */
function uidList(user: User, list: string | undefined): string[] {
  if (list === undefined) return [];
  return list.split(',').map((ref) => nonRoot(user, ref.trim(), 'assigned').uid);
}

export function register(program: Command): void {
  const category = program
    .command('category')
    .description('create, rename, delete, reorder and list categories; assign them to workitems');

  category
    .command('list')
    .description('the category tree (Flowkeeper\'s built-in groups included), with how many workitems use each')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const user = s.client.state.tenant.users.get(config.user);
        const list = user === undefined ? [] : rows(user);
        if (opts.json) return printJson(list);
        for (const r of list) {
          const used = r.workitems > 0 ? `  (${r.workitems} workitem${r.workitems === 1 ? '' : 's'})` : '';
          print(`${'  '.repeat(r.depth)}${r.name}  [${r.uid}]${r.system ? ' built-in' : ''}${used}`);
        }
      }),
    );

  category
    .command('create')
    .description('create a category (under another one with --parent)')
    .argument('<name>', 'category name', nameArg('category name'))
    .option('--parent <category>', 'the parent category (default: the top level)', nameArg("option '--parent'"))
    .option('--id <uid>', 'uid of the new category (default: a random UUID)', nameArg("option '--id'"))
    .action(async (name: string, opts: { parent?: string; id?: string }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const user = await ensureUser(s, config);
        const parent = opts.parent === undefined ? user.rootCategory : resolveCategory(user, opts.parent);
        const uid = opts.id ?? randomUUID();
        await s.client.execute('CreateCategory', [uid, parent.uid, name]);
        print(uid);
      }),
    );

  category
    .command('rename')
    .description('rename a category')
    .argument(...CAT)
    .argument('<name>', 'new name', nameArg('category name'))
    .action(async (ref: string, name: string, _o: unknown, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const c = nonRoot(userOf(s.client.state, config), ref, 'renamed');
        await s.client.execute('RenameCategory', [c.uid, name]);
      }),
    );

  category
    .command('delete')
    .description('delete a category and the categories under it; workitems lose them (the workitems stay)')
    .argument(...CAT)
    .action(async (ref: string, _o: unknown, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const c = nonRoot(userOf(s.client.state, config), ref, 'deleted');
        await s.client.execute('DeleteCategory', [c.uid, '']);
      }),
    );

  category
    .command('reorder')
    .description('move a category to another position among its siblings (1 = first)')
    .argument(...CAT)
    .argument('<position>', 'its new position among the categories of its parent, 1 = first')
    .action(async (ref: string, position: string, _o: unknown, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const c = nonRoot(userOf(s.client.state, config), ref, 'reordered');
        const siblings = (c.parent as Category).children;
        const to = positionArg(position, siblings.size, 'category');
        await s.client.execute('ReorderCategory', [c.uid, String(reorderIndex(siblings.indexOf(c.uid), to))]);
      }),
    );

  category
    .command('assign')
    .description("add categories to a workitem, or take them away (Flowkeeper's UpdateWorkitemCategories)")
    .argument('<workitem>', 'uid, unique uid prefix, name or unique start of a name')
    .option('--add <categories>', 'categories to add, comma-separated', nameArg("option '--add'"))
    .option('--remove <categories>', 'categories to take away, comma-separated', nameArg("option '--remove'"))
    .action(async (ref: string, opts: { add?: string; remove?: string }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const user = userOf(s.client.state, config);
        const w = resolveWorkitem(user, ref);
        const add = uidList(user, opts.add);
        const remove = uidList(user, opts.remove);
        if (add.length === 0 && remove.length === 0) {
          const names = [...w.categories].map((uid) => `${user.categories.get(uid)?.name ?? uid}  [${uid}]`);
          print(names.join('\n') || '(no categories)');
          return;
        }
        const has = (uid: string): boolean => w.categories.has(uid);
        const already = add.filter(has);
        const missing = remove.filter((uid) => !has(uid));
        if (already.length > 0 || missing.length > 0) {
          const what = already.length > 0 ? `already has ${already.join(', ')}` : `does not have ${missing.join(', ')}`;
          throw new DomainError('FK_ILLEGAL_STATE', `workitem '${w.name}' ${what}`);
        }
        await s.client.execute('UpdateWorkitemCategories', [w.uid, remove.join(';'), add.join(';')]);
      }),
    );
}
