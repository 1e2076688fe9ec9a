import { Category, type Node, type User, type Workitem } from '../core/engine/model';
import type { StrategyRecord } from '../core/engine/records';
import { tagsOf } from '../core/engine/strategies/tags';

/**
 * Names for the parts of a user's state, shared by the compaction proposals (which parts a record
 * can change) and the state diff (which parts differ). Format: `kind \0 user \0 uid [\0 order]`;
 * `order` keys stand for the order and membership of a child list.
 */
const SEP = '\u0000';

/** The list of users (membership and order). */
export const USERS_KEY = 'users';
/** A user's own fields (name, dates). */
export const userKey = (u: string): string => `u${SEP}${u}${SEP}${u}`;
/** A backlog's own fields. */
export const backlogKey = (u: string, uid: string): string => `b${SEP}${u}${SEP}${uid}`;
/** A workitem with its pomodoros, intervals and categories. */
export const workitemKey = (u: string, uid: string): string => `w${SEP}${u}${SEP}${uid}`;
/** A category's own fields and uses. */
export const categoryKey = (u: string, uid: string): string => `c${SEP}${u}${SEP}${uid}`;
/** A tag (by its lower-cased text). */
export const tagKey = (u: string, tag: string): string => `t${SEP}${u}${SEP}${tag}`;
/** A user's timer. */
export const timerKey = (u: string): string => `timer${SEP}${u}${SEP}`;
/** The child list of `key` (a user's backlogs, a backlog's workitems, a category's children). */
export const orderKey = (key: string): string => `${key}${SEP}order`;

/** The uid part of a key ('' for the timer and the user list). */
export function keyUid(key: string): string {
  return key.split(SEP)[2] ?? '';
}

function categoryChain(u: string, c: Category | undefined): string[] {
  const out: string[] = [];
  for (let n: Node | null = c ?? null; n instanceof Category; n = n.parent) {
    out.push(categoryKey(u, n.uid));
  }
  return out;
}

function workitemKeys(u: string, w: Workitem | undefined, uid: string, name?: string): string[] {
  const out = [workitemKey(u, uid), userKey(u)];
  if (w) {
    out.push(backlogKey(u, w.backlog.uid));
    for (const t of tagsOf(w.name)) out.push(tagKey(u, t));
  }
  if (name !== undefined) for (const t of tagsOf(name)) out.push(tagKey(u, t));
  return out;
}

/**
 * Every key a record can change, judged on the state just before it runs (a superset: the
 * compaction only uses it to decide which proposals to withdraw after a failed verification).
 */
export function recordKeys(r: StrategyRecord, user: User | undefined): string[] {
  const u = r.user;
  const p0 = r.params[0] ?? '';
  const w = user?.workitems.get(p0);
  switch (r.name) {
    case 'CreateUser':
    case 'DeleteUser':
    case 'RenameUser':
      return [USERS_KEY, userKey(p0)];
    case 'CreateBacklog':
    case 'DeleteBacklog':
    case 'ReorderBacklog': {
      const out = [backlogKey(u, p0), orderKey(backlogKey(u, p0)), userKey(u), orderKey(userKey(u))];
      if (r.name === 'DeleteBacklog') {
        out.push(timerKey(u));
        for (const x of user?.backlogs.get(p0)?.workitems.values() ?? []) {
          out.push(...workitemKeys(u, x, x.uid));
          for (const c of x.categories) out.push(...categoryChain(u, user?.categories.get(c)));
        }
      }
      return out;
    }
    case 'RenameBacklog':
      return [backlogKey(u, p0), userKey(u)];
    case 'CreateWorkitem': {
      const b = backlogKey(u, r.params[1] ?? '');
      return [...workitemKeys(u, undefined, p0, r.params[2] ?? ''), b, orderKey(b)];
    }
    case 'RenameWorkitem':
      return workitemKeys(u, w, p0, r.params[1] ?? '');
    case 'DeleteWorkitem':
    case 'ReorderWorkitem':
    case 'MoveWorkitem': {
      const out = [...workitemKeys(u, w, p0), timerKey(u)];
      if (w) out.push(orderKey(backlogKey(u, w.backlog.uid)));
      if (r.name === 'MoveWorkitem')
        out.push(backlogKey(u, r.params[1] ?? ''), orderKey(backlogKey(u, r.params[1] ?? '')));
      if (r.name === 'DeleteWorkitem' && w)
        for (const c of w.categories) out.push(...categoryChain(u, user?.categories.get(c)));
      return out;
    }
    case 'UpdateWorkitemCategories': {
      const out = workitemKeys(u, w, p0);
      for (const c of [r.params[1], r.params[2]]) if (c) out.push(categoryKey(u, c));
      return out;
    }
    case 'CompleteWorkitem':
    case 'RestoreWorkitem':
    case 'AddPomodoro':
    case 'RemovePomodoro':
    case 'AddInterruption':
    case 'StartTimer':
    case 'StartWork':
    case 'VoidPomodoro':
      return [...workitemKeys(u, w, p0), timerKey(u)];
    case 'StopTimer':
    case 'FinishTracking': {
      const running = user?.timer.pomodoro?.workitem;
      return [timerKey(u), userKey(u), ...(running ? workitemKeys(u, running, running.uid) : [])];
    }
    case 'CreateCategory':
    case 'DeleteCategory':
    case 'ReorderCategory':
    case 'RenameCategory': {
      const c = user?.categories.get(p0);
      const parent =
        r.name === 'CreateCategory' ? user?.categories.get(r.params[1] ?? '') : (c?.parent as Category | undefined);
      const out = [categoryKey(u, p0), userKey(u), ...categoryChain(u, parent)];
      if (parent) out.push(orderKey(categoryKey(u, parent.uid)));
      if (r.name === 'DeleteCategory' && c) {
        const visit = (x: Category): void => {
          out.push(categoryKey(u, x.uid));
          for (const wuid of x.uses)
            out.push(workitemKey(u, wuid), ...workitemKeys(u, user?.workitems.get(wuid), wuid));
          for (const ch of x.children.values()) visit(ch);
        };
        visit(c);
      }
      return out;
    }
  }
}
