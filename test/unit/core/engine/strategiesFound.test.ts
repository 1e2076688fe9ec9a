import { canonicalJson, canonicalState } from '../../../../src/core/engine/canonical';
import { ADMIN, story, us, userIn } from '../../../support/story';

/**
 * Rules of Flowkeeper beyond issue 10's list, found by differential runs against the reference
 * (`../shared/oracle/fuzz.py`); each test is the smallest history that showed one.
 */
describe('rules found by differential runs', () => {
  const pomodoro = story()
    .line('CreateBacklog', 'b1', 'Today')
    .line('CreateWorkitem', 'w1', 'b1', 'Write')
    .line('AddPomodoro', 'w1', '1', 'normal');

  it('fails a stamp with a timestamp without UTC offset (naive), keeping what was done before it', () => {
    const given = story().stamp('2026-06-10 10:01:00').line('CreateBacklog', 'b1', 'Naive');
    expect(given.error().lineNumber).toBe(2);
    const s = given.line('RenameBacklog', 'b1', 'Later').state('lenient');
    expect(s.skipped.map((x) => x.lineNumber)).toEqual([2, 3]);
    expect(userIn(s).backlogs.get('b1')?.name).toBe('Later');
    expect(userIn(s).lastModified).toBe(us('2026-06-10T10:00:00Z'));
  });

  it('counts the pomodoro series on the calendar day of the zone the StartTimer was written in', () => {
    const s = pomodoro
      .stamp('2026-06-10 23:30:00-05:00')
      .line('StartTimer', 'w1', '60', '300')
      .state('strict', '2026-06-11T04:40:00Z');
    expect(userIn(s).timer.lastDate).toBe('2026-06-10');
    expect(userIn(s).timer.pomodoroInSeries).toBe(1);
  });

  it('never rings a pomodoro started with a work time of 0', () => {
    const s = pomodoro.line('StartTimer', 'w1', '0', '300').state();
    expect(userIn(s).workitems.get('w1')?.pomodoros[0]?.state).toBe('work');
    expect(userIn(s).timer.nextStateChange).toBeNull();
  });

  it('checks the target state of CompleteWorkitem only after stopping its pomodoro', () => {
    const s = pomodoro.line('StartTimer', 'w1', '1500', '300').line('CompleteWorkitem', 'w1', 'done').state('lenient');
    const w = userIn(s).workitems.get('w1');
    expect(s.skipped.map((x) => x.lineNumber)).toEqual([6]);
    expect([w?.state, w?.pomodoros[0]?.state, w?.pomodoros[0]?.interruptions.length]).toEqual(['running', 'new', 1]);
  });

  it('deletes every other backlog of a deleted user (Flowkeeper walks the list it deletes from)', () => {
    // a workitem given a category by CreateWorkitem cannot be deleted (KeyError): only where it is visited
    const bob = (bad: string) =>
      story()
        .by(ADMIN)
        .line('CreateUser', 'bob@example.org', 'Bob')
        .by('bob@example.org')
        .line('CreateBacklog', 'b1', 'One')
        .line('CreateBacklog', 'b2', 'Two')
        .line('CreateWorkitem', 'w', bad, 'x', '#wg_MSW_M')
        .by(ADMIN)
        .line('DeleteUser', 'bob@example.org', '');
    expect(bob('b1').error().lineNumber).toBe(6);
    expect(bob('b2').state().tenant.users.has('bob@example.org')).toBe(false);
  });

  it("deletes, for a workitem of a deleted backlog, an earlier backlog's twin instead; the timer it ran keeps running", () => {
    const s = story()
      .line('CreateBacklog', 'b1', 'One')
      .line('CreateBacklog', 'b2', 'Two')
      .line('ReorderBacklog', 'b2', '0')
      .line('CreateWorkitem', 'w1', 'b1', 'Tracked')
      .line('AddPomodoro', 'w1', '1', 'tracker')
      .line('StartTimer', 'w1', '')
      .line('CreateWorkitem', 'w1', 'b2', 'Twin')
      .line('DeleteBacklog', 'b1', '')
      .line('CompleteWorkitem', 'w1', 'finished')
      .line('StopTimer', '', '')
      .state('lenient');
    expect(s.skipped.map((x) => x.lineNumber)).toEqual([10]);
    expect(
      userIn(s)
        .backlogs.values()
        .map((b) => [b.uid, b.workitems.size]),
    ).toEqual([['b2', 0]]);
    expect(userIn(s).timer.state).toBe('idle');
  });

  it('takes a workitem out of its backlog and adds it nowhere when the target already holds its uid', () => {
    const s = pomodoro
      .line('CreateBacklog', 'b2', 'Other')
      .line('CreateWorkitem', 'w1', 'b2', 'Twin')
      .line('MoveWorkitem', 'w1', 'b2')
      .state();
    const u = userIn(s);
    expect(u.backlogs.get('b1')?.workitems.size).toBe(0);
    expect(
      u.backlogs
        .get('b2')
        ?.workitems.values()
        .map((w) => w.name),
    ).toEqual(['Twin']);
  });

  it('prints durations as Python does (1e-05) and years below 1000 unpadded', () => {
    const s = story()
      .line('CreateBacklog', 'b1', 'Today')
      .line('CreateWorkitem', 'w1', 'b1', 'Write')
      .line('AddPomodoro', 'w1', '1', 'normal')
      .line('StartTimer', 'w1', '1500', '0.00001')
      .stamp('0999-01-01 00:00:00+00:00')
      .line('CreateBacklog', 'old', 'Old')
      .state();
    const json = canonicalJson(canonicalState(s, 'strict', us('2030-01-01T00:00:00Z')));
    expect(json).toContain('"rest_duration":1e-05');
    expect(json).toContain('"create_date":"999-01-01T00:00:00.000000Z"');
  });
});
