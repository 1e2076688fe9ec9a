import type { Micros } from '../../clock';
import { Tag, type User, type Workitem } from '../model';

/**
 * Tags come from `#hashtags` in workitem names: Python's `#(\w+)` with Unicode `\w` (letters,
 * digits, underscore; not combining marks), lower-cased. A tag keeps the date it was created:
 * Flowkeeper never stamps one.
 */
let tagRe: RegExp | undefined;
/**
 * Built on first use: V8 reads a pattern with `\p{…}` classes (ICU's character tables) when it
 * is constructed, ~1 ms at start-up, and a name of ASCII characters only never needs it.
 */
const tagRE = (): RegExp => (tagRe ??= /#([\p{L}\p{N}_]+)/gu);

/** `A-Z`, `a-z`, `0-9` or `_`: what `[\p{L}\p{N}_]` matches among ASCII characters. */
function isAsciiWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

export function tagsOf(name: string): Set<string> {
  const out = new Set<string>();
  if (!name.includes('#')) return out; // most names: no need to run the (Unicode) pattern
  const n = name.length;
  for (let i = 0; i < n; i++) {
    if (name.charCodeAt(i) > 127) {
      for (const m of name.matchAll(tagRE())) out.add((m[1] as string).toLowerCase());
      return out;
    }
  }
  // ASCII only: the pattern's matches, found by hand (each `#` and the word characters after it)
  for (let i = name.indexOf('#'); i >= 0; i = name.indexOf('#', i)) {
    let end = i + 1;
    while (end < n && isAsciiWord(name.charCodeAt(end))) end++;
    if (end > i + 1) out.add(name.slice(i + 1, end).toLowerCase());
    i = end;
  }
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
