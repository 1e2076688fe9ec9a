import type { StrategyRecord } from '../core/engine/records';
import type { CompactGroup, CompactRule, GroupOf } from './compactGroups';
import type { Life } from './compactLives';

/** The proposals drawn from whole entity lives (compactLives.ts): deleted entities, superseded edits. */

/** An entity's own superseded records: renames but the last, reorders, moves but the last. */
export function entityFineGroups(life: Life, records: readonly StrategyRecord[], group: GroupOf): CompactGroup[] {
  const out: CompactGroup[] = [];
  const singles = (rule: CompactRule, xs: readonly number[]): CompactGroup[] =>
    xs.length > 1 ? xs.map((i) => group(rule, [i])) : [];
  if (life.renames.length > 0) {
    const drop = life.renames.slice(0, -1);
    const last = life.renames[life.renames.length - 1] as number;
    const created = records[life.records[0] as number];
    const createdName = life.kind === 'workitem' || life.kind === 'category' ? created?.params[2] : created?.params[1];
    if (life.end === null && records[last]?.params[1] === createdName) drop.push(last);
    if (drop.length > 0) out.push(group('intermediate-rename', drop, singles('intermediate-rename', drop)));
  }
  if (life.reorders.length > 0) {
    // All of them first (an item moved and put back), then all but the last, then one by one.
    const drop = life.reorders.slice(0, -1);
    const finer = drop.length > 0 ? [group('superseded-reorder', drop, singles('superseded-reorder', drop))] : [];
    out.push(group('superseded-reorder', life.reorders, finer));
  }
  if (life.moves.length > 1) {
    const drop = life.moves.slice(0, -1);
    out.push(group('intermediate-move', drop, singles('intermediate-move', drop)));
  }
  return out;
}

/** Whole deleted entities, nested: a deleted user holds its deleted backlogs, which hold their deleted workitems. */
export function coarseGroups(all: readonly Life[], group: GroupOf, touched: GroupOf): CompactGroup[] {
  const own = (life: Life): number[] =>
    life.endBySelf || life.end === null ? life.records : life.records.filter((i) => i !== life.end);
  const workitemGroup = (w: Life): CompactGroup =>
    group('deleted-workitem', own(w), w.endBySelf ? [touched('deleted-workitem', own(w))] : []);
  const categoryRecords = (c: Life): number[] => [...own(c), ...c.owned, ...[...c.related].flatMap(categoryRecords)];
  const categoryGroup = (c: Life): CompactGroup =>
    group(
      'deleted-category',
      categoryRecords(c),
      [...c.related].filter((d) => d.end !== null && d.endBySelf).map(categoryGroup),
    );
  const contained = new Set<Life>();
  const backlogGroups: CompactGroup[] = [];
  for (const b of all) {
    if (b.kind !== 'backlog' || b.end === null) continue;
    const members = [...b.related];
    const whole = members.every((w) => w.end !== null && [...w.related].every((x) => x === b));
    if (!whole) continue;
    members.forEach((w) => contained.add(w));
    const children = members.filter((w) => w.endBySelf).map(workitemGroup);
    backlogGroups.push(group('deleted-backlog', [...own(b), ...members.flatMap(own)], children));
  }
  const out: CompactGroup[] = [...backlogGroups];
  for (const w of all) if (w.kind === 'workitem' && w.end !== null && !contained.has(w)) out.push(workitemGroup(w));
  const nested = new Set<Life>();
  for (const c of all) if (c.kind === 'category') for (const d of c.related) nested.add(d);
  for (const c of all) {
    if (c.kind === 'category' && c.end !== null && (!nested.has(c) || c.endBySelf)) {
      // A sub-category deleted before its parent is tried with its parent first (as a child group).
      const parentDeleted = [...all].some((p) => p.kind === 'category' && p.related.has(c) && p.end !== null);
      if (!parentDeleted) out.push(categoryGroup(c));
    }
  }
  const users: CompactGroup[] = [];
  for (const u of all) {
    if (u.kind !== 'user' || u.end === null) continue;
    users.push(group('deleted-user', [...u.records, ...u.owned]));
  }
  return [...users, ...out];
}
