import type { Micros } from '../../clock';
import { Tag, type User, type Workitem } from '../model';

/**
 * Tags come from `#hashtags` in workitem names: Python's `#(\w+)` with Unicode `\w` (letters,
 * digits, underscore; not combining marks), lower-cased. A tag keeps the date it was created:
 * Flowkeeper never stamps one.
 */
const TAG_RE = /#([\p{L}\p{N}_]+)/gu;

export function tagsOf(name: string): Set<string> {
  const out = new Set<string>();
  if (!name.includes('#')) return out; // most names: no need to run the (Unicode) pattern
  for (const m of name.matchAll(TAG_RE)) out.add((m[1] as string).toLowerCase());
  return out;
}

/** Adds `w` to the tags `names` (all of its name's by default), creating missing ones at `when`. */
export function addTags(user: User, w: Workitem, when: Micros, naive: boolean, names?: Iterable<string>): void {
  for (const t of names ?? tagsOf(w.name)) {
    let tag = user.tags.get(t);
    if (tag === undefined) {
      tag = new Tag(t, t, when, user, naive);
      user.tags.set(t, tag);
    }
    tag.workitems.add(w.uid);
  }
}

/** Removes `w` from the tags `names` (every tag by default); a tag left empty is deleted. */
export function removeTags(user: User, w: Workitem, names?: Iterable<string>): void {
  for (const t of names ?? [...user.tags.keys()]) {
    const tag = user.tags.get(t);
    if (tag === undefined || !tag.workitems.delete(w.uid)) continue;
    if (tag.workitems.size === 0) user.tags.delete(t);
  }
}

/** Renaming keeps the tags both names share; only the difference is removed or added. */
export function renameTags(user: User, w: Workitem, before: Set<string>, when: Micros, naive: boolean): void {
  const after = tagsOf(w.name);
  addTags(user, w, when, naive, [...after].filter((t) => !before.has(t)));
  removeTags(user, w, [...before].filter((t) => !after.has(t)));
}
