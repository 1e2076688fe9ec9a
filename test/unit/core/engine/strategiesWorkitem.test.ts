import { ADMIN, story, us, userIn } from '../../../support/story';

/** Backlog, workitem and user rules of Flowkeeper (found by differential runs against the reference, issue 10). */
describe('workitems and backlogs', () => {
  const backlog = story().line('CreateBacklog', 'b1', 'Today');

  it('renames anything to the name it already has without a stamp or an error, even a sealed workitem', () => {
    const s = backlog
      .line('CreateWorkitem', 'w1', 'b1', 'Write')
      .line('CompleteWorkitem', 'w1', 'finished')
      .at('2026-06-10T11:00:00Z')
      .line('RenameWorkitem', 'w1', 'Write')
      .line('RenameBacklog', 'b1', 'Today')
      .line('RenameUser', 'alice@example.org', 'Alice')
      .state();
    const u = userIn(s);
    expect(u.lastModified).toBe(us('2026-06-10T10:03:00Z'));
    expect(u.backlogs.get('b1')?.lastModified).toBe(us('2026-06-10T10:03:00Z'));
    expect(u.workitems.get('w1')?.lastModified).toBe(us('2026-06-10T10:03:00Z'));
  });

  it('stamps the backlog, not the workitem, when reordering a workitem', () => {
    const s = backlog
      .line('CreateWorkitem', 'w1', 'b1', 'One')
      .line('CreateWorkitem', 'w2', 'b1', 'Two')
      .at('2026-06-10T11:00:00Z')
      .line('ReorderWorkitem', 'w2', '0')
      .state();
    const b = userIn(s).backlogs.get('b1');
    expect(b?.workitems.values().map((w) => w.uid)).toEqual(['w2', 'w1']);
    expect(b?.lastModified).toBe(us('2026-06-10T11:00:00Z'));
    expect(b?.workitems.get('w2')?.lastModified).toBe(us('2026-06-10T10:03:00Z'));
  });

  it('checks a new workitem uid within its backlog only, and finds the first backlog holding it', () => {
    const s = backlog
      .line('CreateBacklog', 'b2', 'Tomorrow')
      .line('CreateWorkitem', 'w1', 'b2', 'Later')
      .line('CreateWorkitem', 'w1', 'b1', 'Now')
      .line('RenameWorkitem', 'w1', 'Now!')
      .state();
    const u = userIn(s);
    expect(u.backlogs.get('b1')?.workitems.get('w1')?.name).toBe('Now!');
    expect(u.backlogs.get('b2')?.workitems.get('w1')?.name).toBe('Later');
  });

  it('finishes a long break at the completion, with no interruption, when completing the workitem', () => {
    const s = backlog
      .line('CreateWorkitem', 'w1', 'b1', 'Write')
      .line('AddPomodoro', 'w1', '1', 'normal')
      .line('StartTimer', 'w1', '1500', '0')
      .at('2026-06-10T10:40:00Z')
      .line('CompleteWorkitem', 'w1', 'finished')
      .state();
    const w = userIn(s).workitems.get('w1');
    const p = w?.pomodoros[0];
    expect(p?.state).toBe('finished');
    expect(p?.dateCompleted).toBe(us('2026-06-10T10:40:00Z'));
    expect(p?.interruptions).toHaveLength(0);
    expect(w?.intervals[0]?.ended).toBe(us('2026-06-10T10:40:00Z'));
  });

  it('voids a running pomodoro without an interruption when completing a workitem that has a tracker', () => {
    const s = backlog
      .line('CreateWorkitem', 'w1', 'b1', 'Write')
      .line('AddPomodoro', 'w1', '1', 'tracker')
      .line('AddPomodoro', 'w1', '1', 'normal')
      .line('AddPomodoro', 'w1', '1', 'normal')
      .line('StartTimer', 'w1', '')
      .line('StopTimer', '', '')
      .line('StartTimer', 'w1', '1500', '300')
      .line('CompleteWorkitem', 'w1', 'canceled')
      .state();
    const p = userIn(s).workitems.get('w1')?.pomodoros[1];
    expect(p?.state).toBe('new');
    expect(p?.interruptions).toHaveLength(0);
  });

  it('lets only admin@local.host create or delete users, and a user rename only itself', () => {
    expect(story().line('CreateUser', 'bob@example.org', 'Bob').error().lineNumber).toBe(2);
    const withBob = story().by(ADMIN).line('CreateUser', 'bob@example.org', 'Bob').by('alice@example.org');
    expect(withBob.line('DeleteUser', 'bob@example.org', '').error().lineNumber).toBe(3);
    expect(withBob.line('RenameUser', 'bob@example.org', 'Robert').error().lineNumber).toBe(3);
    expect(userIn(withBob.line('RenameUser', 'alice@example.org', 'Ally').state()).name).toBe('Ally');
  });
});
