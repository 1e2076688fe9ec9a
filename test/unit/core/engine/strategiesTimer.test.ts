import { ADMIN, ALICE, story, us, userIn } from '../../../support/story';

/** Pomodoro and timer rules of Flowkeeper (found by differential runs against the reference, issue 10). */
describe('pomodoros and the timer', () => {
  const two = story()
    .line('CreateBacklog', 'b1', 'Today')
    .line('CreateWorkitem', 'w1', 'b1', 'Write')
    .line('AddPomodoro', 'w1', '2', 'normal');

  it('records "Pomodoro voided" (not void, no duration) on VoidPomodoro, then stops the timer: a long break ends finished', () => {
    const s = two.line('StartTimer', 'w1', '1500', '0').at('2026-06-10T10:40:00Z').line('VoidPomodoro', 'w1').state();
    const p = userIn(s).workitems.get('w1')?.pomodoros[0];
    expect(p?.state).toBe('finished');
    expect(p?.interruptions.map((i) => [i.reason, i.isVoid, i.duration])).toEqual([['Pomodoro voided', false, null]]);
  });

  it('refuses StopTimer when the timer is idle', () => {
    expect(two.line('StopTimer', '', '').error().lineNumber).toBe(5);
  });

  it('checks the count of RemovePomodoro before removing anything', () => {
    const s = two.line('RemovePomodoro', 'w1', '3').line('RemovePomodoro', 'w1', '0').state('lenient');
    expect(s.skipped.map((x) => x.lineNumber)).toEqual([5, 6]);
    expect(userIn(s).workitems.get('w1')?.pomodoros).toHaveLength(2);
  });

  it('keeps the rest start of a pomodoro voided in its rest when it starts again', () => {
    const s = two
      .line('StartTimer', 'w1', '60', '300')
      .at('2026-06-10T10:06:00Z')
      .line('StopTimer', '', '')
      .line('StartTimer', 'w1', '60', '300')
      .state('strict', '2026-06-10T10:07:30Z');
    const p = userIn(s).workitems.get('w1')?.pomodoros[0];
    expect(p?.state).toBe('work');
    expect(p?.dateRestStarted).toBe(us('2026-06-10T10:05:00Z'));
  });

  it('reads a missing or empty rest as a long break (0) and an empty work time as 0 (never rings)', () => {
    const rest = (s: ReturnType<typeof two.state>): number | undefined =>
      userIn(s).workitems.get('w1')?.pomodoros[0]?.restDuration;
    expect(rest(two.line('StartTimer', 'w1', '1500').state('strict', '2026-06-10T10:05:00Z'))).toBe(0);
    expect(rest(two.line('StartTimer', 'w1', '1500', '').state('strict', '2026-06-10T10:05:00Z'))).toBe(0);
    const s = two.line('StartTimer', 'w1', '', '300').state();
    const p = userIn(s).workitems.get('w1')?.pomodoros[0];
    expect([p?.state, p?.workDuration, p?.restDuration]).toEqual(['work', 0, 0]);
    expect(userIn(s).timer.nextStateChange).toBeNull();
  });

  it('starts a counter pomodoro as far as Flowkeeper does: the workitem runs and has an interval, then it fails', () => {
    const s = story()
      .line('CreateBacklog', 'b1', 'Today')
      .line('CreateWorkitem', 'w1', 'b1', 'Count')
      .line('AddPomodoro', 'w1', '1', 'counter')
      .line('StartTimer', 'w1', '')
      .state('lenient');
    const w = userIn(s).workitems.get('w1');
    expect(s.skipped.map((x) => x.lineNumber)).toEqual([5]);
    expect(w?.state).toBe('running');
    expect(w?.intervals).toHaveLength(1);
    expect(w?.pomodoros[0]?.state).toBe('new');
  });

  it('rings a due timer before RemovePomodoro, RestoreWorkitem and DeleteUser', () => {
    const running = two
      .line('CreateWorkitem', 'w2', 'b1', 'Done')
      .line('CompleteWorkitem', 'w2', 'finished')
      .line('StartTimer', 'w1', '60', '60')
      .at('2026-06-10T10:30:00Z');
    const early = '2026-06-10T10:00:00Z'; // the end-of-history seal rings nothing at this "now"
    const first = (s: ReturnType<typeof two.state>, who = ALICE): string | undefined =>
      userIn(s, who).workitems.get('w1')?.pomodoros[0]?.state;
    expect(first(running.line('RemovePomodoro', 'w1', '1').state('strict', early))).toBe('finished');
    expect(first(running.line('RestoreWorkitem', 'w2', '').state('strict', early))).toBe('finished');
    const admin = story()
      .by(ADMIN)
      .line('CreateUser', 'bob@example.org', 'Bob')
      .line('CreateBacklog', 'b1', 'Admin')
      .line('CreateWorkitem', 'w1', 'b1', 'Admin work')
      .line('AddPomodoro', 'w1', '1', 'normal')
      .line('StartTimer', 'w1', '60', '60')
      .at('2026-06-10T10:30:00Z')
      .line('DeleteUser', 'bob@example.org', '');
    expect(first(admin.state('strict', early), ADMIN)).toBe('finished');
  });

  it('seals, at the end, the timer of the user of the last line that executed (lenient: a failing last line does not count)', () => {
    const s = two
      .line('StartTimer', 'w1', '60', '60')
      .by(ADMIN)
      .line('RenameBacklog', 'no-such-backlog', 'x')
      .state('lenient', '2026-06-10T11:00:00Z');
    expect(s.skipped.map((x) => x.lineNumber)).toEqual([6]);
    expect(userIn(s).workitems.get('w1')?.pomodoros[0]?.state).toBe('finished');
  });
});
