import type { Micros } from '../../clock';
import { Tag, type User, type Workitem } from '../model';

/**
 * Tags come from `#hashtags` in workitem names: Python's `#(\w+)` with Unicode `\w` (letters,
 * digits, underscore; not combining marks), lower-cased.
 */
const TAG_RE = /#([\p{L}\p{N}_]+)/gu;

export function tagsOf(name: string): Set<string> {
  const out = new Set<string>();
  for (const m of name.matchAll(TAG_RE)) out.add((m[1] as string).toLowerCase());
  return out;
}

export function addTags(user: User, w: Workitem, when: Micros, only?: ReadonlySet<string>): void {
  for (const t of only ?? tagsOf(w.name)) {
    let tag = user.tags.get(t);
    if (tag === undefined) {
      tag = new Tag(t, t, when, user);
      user.tags.set(t, tag);
      tag.itemUpdated(when);
    }
    tag.workitems.add(w.uid);
  }
}

export function removeTags(user: User, w: Workitem, only?: ReadonlySet<string>): void {
  for (const t of only ?? tagsOf(w.name)) {
    const tag = user.tags.get(t);
    if (tag === undefined) continue;
    tag.workitems.delete(w.uid);
    if (tag.workitems.size === 0) user.tags.delete(t);
  }
}

/** Renaming keeps the tags both names share; only the difference is removed or added. */
export function renameTags(user: User, w: Workitem, newName: string, when: Micros): void {
  const before = tagsOf(w.name);
  const after = tagsOf(newName);
  removeTags(user, w, new Set([...before].filter((t) => !after.has(t))));
  w.name = newName;
  addTags(user, w, when, new Set([...after].filter((t) => !before.has(t))));
}
