import { story, us, userIn } from '../../../support/story';

/** Category rules of Flowkeeper (found by differential runs against the reference, issue 10). */
describe('categories', () => {
  const withCategory = story().line('CreateCategory', 'c1', '#workitem_groups', 'Mine');

  it('stamps a renamed category and every ancestor up to the user', () => {
    const s = withCategory.at('2026-06-10T11:00:00Z').line('RenameCategory', 'c1', 'Ours').state();
    const u = userIn(s);
    const at11 = us('2026-06-10T11:00:00Z');
    expect(u.categories.get('c1')?.lastModified).toBe(at11);
    expect(u.categories.get('#workitem_groups')?.lastModified).toBe(at11);
    expect(u.rootCategory.lastModified).toBe(at11);
    expect(u.lastModified).toBe(at11);
  });

  it('refuses to rename or reorder #root, and a rename to the same name changes nothing', () => {
    expect(story().line('RenameCategory', '#root', 'Top').error().lineNumber).toBe(2);
    expect(story().line('ReorderCategory', '#root', '0').error().lineNumber).toBe(2);
    const s = withCategory.at('2026-06-10T11:00:00Z').line('RenameCategory', 'c1', 'Mine').state();
    expect(userIn(s).categories.get('c1')?.lastModified).toBe(us('2026-06-10T10:01:00Z'));
  });

  it('stamps #root when deleting it fails, keeps it, and it stays usable', () => {
    const s = withCategory
      .at('2026-06-10T11:00:00Z')
      .line('DeleteCategory', '#root', '')
      .line('CreateCategory', 'c2', '#root', 'Again')
      .state('lenient');
    const u = userIn(s);
    expect(s.skipped.map((x) => x.lineNumber)).toEqual([3]);
    expect(u.rootCategory.lastModified).toBe(us('2026-06-10T11:01:00Z'));
    expect(u.rootCategory.children.values().map((c) => c.uid)).toEqual(['c2']);
    expect(u.categories.has('c1')).toBe(false);
  });

  it('takes ";"-separated category lists in CreateWorkitem and UpdateWorkitemCategories', () => {
    const given = withCategory.line('CreateBacklog', 'b1', 'B').line('CreateCategory', 'c2', '#workitem_groups', 'Two');
    const created = given.line('CreateWorkitem', 'w1', 'b1', 'x', 'c1;c2').state();
    expect([...(userIn(created).workitems.get('w1')?.categories ?? [])].sort()).toEqual(['c1', 'c2']);
    const updated = given
      .line('CreateWorkitem', 'w1', 'b1', 'x')
      .line('UpdateWorkitemCategories', 'w1', '', 'c1;c2')
      .state();
    expect([...(userIn(updated).workitems.get('w1')?.categories ?? [])].sort()).toEqual(['c1', 'c2']);
    expect([...(userIn(updated).categories.get('c2')?.uses ?? [])]).toEqual(['w1']);
  });

  it('creates nothing when a listed category does not exist', () => {
    const s = withCategory
      .line('CreateBacklog', 'b1', 'B')
      .line('CreateWorkitem', 'w1', 'b1', 'x', 'c1;nope')
      .state('lenient');
    expect(s.skipped.map((x) => x.lineNumber)).toEqual([4]);
    expect(userIn(s).workitems.has('w1')).toBe(false);
  });

  it('refuses to add a category the workitem already has', () => {
    const e = withCategory
      .line('CreateBacklog', 'b1', 'B')
      .line('CreateWorkitem', 'w1', 'b1', 'x')
      .line('UpdateWorkitemCategories', 'w1', '', 'c1')
      .line('UpdateWorkitemCategories', 'w1', '', 'c1')
      .error();
    expect(e.lineNumber).toBe(6);
  });
});
