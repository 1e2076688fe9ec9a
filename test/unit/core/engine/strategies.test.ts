import type { ReplayState } from '../../../../src/core/engine/replay';
import { formatInstant } from '../../../../src/core/engine/time';
import { at, given, USER } from '../../../support/spec';

const user = (s: ReplayState) => s.tenant.users.get(USER)!;
const wi = (s: ReplayState, uid = 'w1') => user(s).workitems.get(uid)!;
const iso = (t: number | null) => (t === null ? null : formatInstant(t));

const backlogWithItem = [
  ['CreateBacklog', 'b1', 'Today'],
  ['CreateWorkitem', 'w1', 'b1', 'Write #Report'],
  ['AddPomodoro', 'w1', '2', 'normal'],
] as const;

describe('backlogs and workitems', () => {
  it('rejects CreateBacklog with an existing uid', () => {
    given(['CreateBacklog', 'b1', 'One']).when('CreateBacklog', 'b1', 'Two').thenThrows('FK_ALREADY_EXISTS');
  });

  it('rejects CreateWorkitem in a backlog that does not exist', () => {
    given().when('CreateWorkitem', 'w1', 'nope', 'x').thenThrows('FK_NOT_FOUND', 'Exception');
  });

  it('creates lower-cased tags from #hashtags, Unicode included, and drops empty tags on rename', () => {
    given(['CreateBacklog', 'b1', 'B'])
      .when('CreateWorkitem', 'w1', 'b1', '#One #café ###десять #one|')
      .then((s) => expect([...user(s).tags.keys()].sort()).toEqual(['café', 'one', 'десять']));
    given(['CreateBacklog', 'b1', 'B'], ['CreateWorkitem', 'w1', 'b1', '#a #b'])
      .when('RenameWorkitem', 'w1', '#b #c')
      .then((s) => expect([...user(s).tags.keys()].sort()).toEqual(['b', 'c']));
  });

  it('keeps a tag shared by the old and the new name with its creation date', () => {
    given(['CreateBacklog', 'b1', 'B'], ['CreateWorkitem', 'w1', 'b1', 'x #keep'])
      .when('RenameWorkitem', 'w1', 'y #keep')
      .then((s) => expect(user(s).tags.get('keep')!.createDate).toBe(wi(s).createDate));
  });

  it('rejects renaming a sealed workitem', () => {
    given(...backlogWithItem, ['CompleteWorkitem', 'w1', 'finished'])
      .when('RenameWorkitem', 'w1', 'x')
      .thenThrows('FK_ILLEGAL_STATE');
  });

  it('restores a workitem that never ran to new, and clears its end date', () => {
    given(...backlogWithItem, ['CompleteWorkitem', 'w1', 'canceled'])
      .when('RestoreWorkitem', 'w1', '')
      .then((s) => {
        expect(wi(s).state).toBe('new');
        expect(wi(s).dateWorkEnded).toBeNull();
      });
  });

  it('restores a workitem that ran to running', () => {
    given(...backlogWithItem, ['StartTimer', 'w1', '1500', '300'], at('2026-06-10T11:00:00Z'), [
      'CompleteWorkitem',
      'w1',
      'finished',
    ])
      .when('RestoreWorkitem', 'w1', '')
      .then((s) => expect(wi(s).state).toBe('running'));
  });

  it('reorders with Flowkeeper list.insert semantics (index past the end appends, moving down inserts before)', () => {
    const three = [
      ['CreateBacklog', 'a', 'A'],
      ['CreateBacklog', 'b', 'B'],
      ['CreateBacklog', 'c', 'C'],
    ] as const;
    given(...three)
      .when('ReorderBacklog', 'a', '99')
      .then((s) =>
        expect(
          user(s)
            .backlogs.values()
            .map((b) => b.uid),
        ).toEqual(['b', 'c', 'a']),
      );
    given(...three)
      .when('ReorderBacklog', 'a', '2')
      .then((s) =>
        expect(
          user(s)
            .backlogs.values()
            .map((b) => b.uid),
        ).toEqual(['b', 'a', 'c']),
      );
    given(...three)
      .when('ReorderBacklog', 'c', '0')
      .then((s) =>
        expect(
          user(s)
            .backlogs.values()
            .map((b) => b.uid),
        ).toEqual(['c', 'a', 'b']),
      );
  });

  it('moves a workitem to the end of another backlog', () => {
    given(...backlogWithItem, ['CreateBacklog', 'b2', 'Tomorrow'], ['CreateWorkitem', 'w2', 'b2', 'other'])
      .when('MoveWorkitem', 'w1', 'b2')
      .then((s) => {
        expect(user(s).backlogs.get('b1')!.workitems.size).toBe(0);
        expect(
          user(s)
            .backlogs.get('b2')!
            .workitems.values()
            .map((w) => w.uid),
        ).toEqual(['w2', 'w1']);
      });
  });
});

describe('categories', () => {
  it('registers usage on UpdateWorkitemCategories and forgets it on DeleteCategory', () => {
    given(
      ['CreateBacklog', 'b1', 'B'],
      ['CreateWorkitem', 'w1', 'b1', 'x'],
      ['CreateCategory', 'c1', '#workitem_groups', 'Mine'],
      ['UpdateWorkitemCategories', 'w1', '', 'c1'],
    )
      .when('DeleteCategory', 'c1', '')
      .then((s) => {
        expect([...wi(s).categories]).toEqual([]);
        expect(user(s).categories.has('c1')).toBe(false);
      });
  });

  it('raises KeyError when removing a category that CreateWorkitem assigned without registering it', () => {
    given(['CreateBacklog', 'b1', 'B'], ['CreateWorkitem', 'w1', 'b1', 'x', '#wg_MSW_M'])
      .when('UpdateWorkitemCategories', 'w1', '#wg_MSW_M', '')
      .thenThrows('FK_NOT_FOUND', 'KeyError');
  });

  it('deletes every category below #root, then fails on #root itself', () => {
    const spec = given(['CreateBacklog', 'b1', 'B']);
    spec.when('DeleteCategory', '#root', '').thenThrows('FK_ILLEGAL_STATE', 'KeyError');
    expect(user(spec.state()).rootCategory.children.size).toBe(0);
  });
});

describe('pomodoros and the timer', () => {
  it('names pomodoros by their number when added, planned while the workitem is new', () => {
    given(...backlogWithItem, ['StartTimer', 'w1', '1500', '300'])
      .when('AddPomodoro', 'w1', '1', 'normal')
      .then((s) => {
        expect(wi(s).pomodoros.map((p) => [p.name, p.isPlanned])).toEqual([
          ['Pomodoro 1', true],
          ['Pomodoro 2', true],
          ['Pomodoro 3', false],
        ]);
      });
  });

  it('rejects StartTimer on a sealed workitem', () => {
    given(...backlogWithItem, ['CompleteWorkitem', 'w1', 'finished'])
      .when('StartTimer', 'w1', '1500', '300')
      .thenThrows('FK_ILLEGAL_STATE');
  });

  it('rejects StartTimer when no pomodoro is planned', () => {
    given(['CreateBacklog', 'b1', 'B'], ['CreateWorkitem', 'w1', 'b1', 'x'])
      .when('StartTimer', 'w1', '1500', '300')
      .thenThrows('FK_ILLEGAL_STATE');
  });

  it('rejects StartTimer while another pomodoro runs', () => {
    given(...backlogWithItem, ['StartTimer', 'w1', '1500', '300'])
      .when('StartTimer', 'w1', '1500', '300')
      .thenThrows('FK_ILLEGAL_STATE');
  });

  it('rests when the work time is over and completes when the rest is over, stamped at the planned instants', () => {
    const s = given(...backlogWithItem, at('2026-06-10T12:00:00Z'), ['StartTimer', 'w1', '1500', '300']).state(
      '2026-06-10T13:00:00Z',
    );
    const p = wi(s).pomodoros[0]!;
    expect(p.state).toBe('finished');
    expect(iso(p.dateRestStarted)).toBe('2026-06-10T12:25:00.000000Z');
    expect(iso(p.dateCompleted)).toBe('2026-06-10T12:30:00.000000Z');
    expect(user(s).timer.state).toBe('idle');
  });

  it('never fires in the past: during work nothing is sealed early', () => {
    const s = given(...backlogWithItem, at('2026-06-10T12:00:00Z'), ['StartTimer', 'w1', '1500', '300']).state(
      '2026-06-10T12:10:00Z',
    );
    expect(wi(s).pomodoros[0]!.state).toBe('work');
    expect(iso(user(s).timer.nextStateChange)).toBe('2026-06-10T12:25:00.000000Z');
  });

  it('a rest of 0 is a long break that lasts until StopTimer, which completes the pomodoro', () => {
    const spec = given(
      ...backlogWithItem,
      at('2026-06-10T12:00:00Z'),
      ['StartTimer', 'w1', '1500', '0'],
      at('2026-06-10T14:00:00Z'),
    );
    spec.when('StopTimer', '', '').then((s) => {
      const p = wi(s).pomodoros[0]!;
      expect(p.state).toBe('finished');
      expect(iso(p.dateCompleted)).toBe('2026-06-10T14:00:00.000000Z');
      expect(user(s).timer.pomodoroInSeries).toBe(0);
    });
  });

  it('StopTimer during work voids the pomodoro back to new and closes its interval', () => {
    given(...backlogWithItem, ['StartTimer', 'w1', '1500', '300'])
      .when('StopTimer', '', '')
      .then((s) => {
        expect(wi(s).pomodoros[0]!.state).toBe('new');
        expect(wi(s).intervals[0]!.ended).not.toBeNull();
        expect(user(s).timer.state).toBe('idle');
      });
  });

  it('completing a workitem voids its running pomodoro with an interruption (design point 8)', () => {
    given(...backlogWithItem, ['StartTimer', 'w1', '1500', '300'])
      .when('CompleteWorkitem', 'w1', 'finished')
      .then((s) => {
        const p = wi(s).pomodoros[0]!;
        expect(p.state).toBe('new');
        expect(p.interruptions.map((i) => i.reason)).toEqual(['The item was marked completed before Pomodoro rang']);
        expect(user(s).timer.state).toBe('idle');
      });
  });

  it('completing a workitem with a running tracker finishes the tracker', () => {
    given(
      ['CreateBacklog', 'b1', 'B'],
      ['CreateWorkitem', 'w1', 'b1', 'x'],
      ['AddPomodoro', 'w1', '1', 'tracker'],
      ['StartTimer', 'w1', ''],
    )
      .when('CompleteWorkitem', 'w1', 'finished')
      .then((s) => expect(wi(s).pomodoros[0]!.state).toBe('finished'));
  });

  it('records an interruption on the running pomodoro, and rejects one when none runs', () => {
    given(...backlogWithItem, ['StartTimer', 'w1', '1500', '300'])
      .when('AddInterruption', 'w1', 'phone', '30.5')
      .then((s) =>
        expect(wi(s).pomodoros[0]!.interruptions.map((i) => [i.reason, i.duration])).toEqual([['phone', 30.5]]),
      );
    given(...backlogWithItem)
      .when('AddInterruption', 'w1', 'phone', '')
      .thenThrows('FK_ILLEGAL_STATE');
  });

  it('removes only planned pomodoros from the end', () => {
    given(...backlogWithItem)
      .when('RemovePomodoro', 'w1', '2')
      .then((s) => expect(wi(s).pomodoros).toHaveLength(0));
    given(...backlogWithItem)
      .when('RemovePomodoro', 'w1', '3')
      .thenThrows('FK_ILLEGAL_STATE');
  });

  it('rejects a malformed number as Python would, while building the strategy (an unparsed line)', () => {
    given(...backlogWithItem)
      .when('AddPomodoro', 'w1', 'two', 'normal')
      .thenThrows('FK_PARSE_FAILED');
  });
});
