import { actions, type Action } from '../../../../src/core/engine/actions';
import type { ReplayState } from '../../../../src/core/engine/replay';
import type { StrategyName } from '../../../../src/core/engine/records';
import { at, given, USER } from '../../../support/spec';

const step = (a: Action): [StrategyName, ...string[]] => [a.name, ...a.params];
const user = (s: ReplayState) => s.tenant.users.get(USER)!;
const wi = (s: ReplayState, uid = 'w1') => user(s).workitems.get(uid)!;

const planned = [
  actions.createBacklog({ uid: 'b1', name: 'Today' }),
  actions.createWorkitem({ uid: 'w1', backlog: 'b1', name: 'Write the report' }),
  actions.addPomodoro({ workitem: 'w1', count: 2 }),
].map(step);
const running = [...planned, step(actions.startTimer({ workitem: 'w1', work: 1500, rest: 300 }))];

describe('actions: the parameters Flowkeeper writes', () => {
  it('writes the placeholders and orders Flowkeeper writes', () => {
    expect(actions.stopTimer()).toEqual({ name: 'StopTimer', params: ['', ''] });
    expect(actions.deleteBacklog({ uid: 'b1' })).toEqual({ name: 'DeleteBacklog', params: ['b1', ''] });
    expect(actions.createWorkitem({ uid: 'w1', backlog: 'b1', name: 'x' }).params).toEqual(['w1', 'b1', 'x']);
    expect(actions.createWorkitem({ uid: 'w1', backlog: 'b1', name: 'x', categories: ['c1', 'c2'] }).params).toEqual([
      'w1',
      'b1',
      'x',
      'c1;c2',
    ]);
    expect(actions.startTimer({ workitem: 'w1' }).params).toEqual(['w1', '']);
    expect(actions.startTimer({ workitem: 'w1', work: 90 }).params).toEqual(['w1', '90', '0']);
    expect(actions.addInterruption({ workitem: 'w1', reason: 'phone' }).params).toEqual(['w1', 'phone', '']);
    expect(actions.updateWorkitemCategories({ uid: 'w1', add: ['c1'] }).params).toEqual(['w1', '', 'c1']);
  });

  it('runs a workitem from creation to completion through the builders', () => {
    given(
      ...running,
      step(actions.addInterruption({ workitem: 'w1', reason: 'phone', duration: 30 })),
      at('2026-06-10T11:00:00Z'),
      step(actions.renameWorkitem({ uid: 'w1', name: 'Report, done' })),
    )
      .when(...step(actions.completeWorkitem({ uid: 'w1', state: 'finished' })))
      .then((s) => {
        expect(wi(s).state).toBe('finished');
        expect(wi(s).pomodoros.map((p) => p.state)).toEqual(['finished', 'new']);
      });
  });

  it('removes planned pomodoros from the end, and starts a tracker with no work time', () => {
    given(...planned, step(actions.addPomodoro({ workitem: 'w1', count: 1, kind: 'tracker' })))
      .when(...step(actions.removePomodoro({ workitem: 'w1', count: 2 })))
      .then((s) => expect(wi(s).pomodoros.map((p) => p.type)).toEqual(['normal']));
    given(...planned.slice(0, 2), step(actions.addPomodoro({ workitem: 'w1', count: 1, kind: 'tracker' })))
      .when(...step(actions.startTimer({ workitem: 'w1' })))
      .then((s) => expect(user(s).timer.state).toBe('work'));
  });

  it('builds categories, assigns them and moves a workitem', () => {
    given(
      ...planned,
      step(actions.createCategory({ uid: 'c1', parent: '#root', name: 'Work' })),
      step(actions.createCategory({ uid: 'c2', parent: 'c1', name: 'Reports' })),
      step(actions.createBacklog({ uid: 'b2', name: 'Tomorrow' })),
      step(actions.updateWorkitemCategories({ uid: 'w1', add: ['c1', 'c2'] })),
      step(actions.moveWorkitem({ uid: 'w1', backlog: 'b2' })),
      step(actions.reorderBacklog({ uid: 'b2', index: 0 })),
    )
      .when(...step(actions.updateWorkitemCategories({ uid: 'w1', remove: ['c2'] })))
      .then((s) => {
        expect([...wi(s).categories]).toEqual(['c1']);
        expect(wi(s).backlog.uid).toBe('b2');
        expect(
          user(s)
            .backlogs.values()
            .map((b) => b.uid),
        ).toEqual(['b2', 'b1']);
      });
  });
});

describe('refusals in data: which rule, which entity, which uid', () => {
  it('names the sealed workitem', () => {
    given(...planned, step(actions.completeWorkitem({ uid: 'w1', state: 'canceled' })))
      .when(...step(actions.startTimer({ workitem: 'w1', work: 1500, rest: 300 })))
      .thenRefuses({ rule: 'sealed', entity: 'workitem', uid: 'w1' });
    given(...planned, step(actions.completeWorkitem({ uid: 'w1', state: 'finished' })))
      .when(...step(actions.renameWorkitem({ uid: 'w1', name: 'x' })))
      .thenRefuses({ rule: 'sealed', entity: 'workitem', uid: 'w1' });
  });

  it('names the timer that runs, or does not', () => {
    given(...running)
      .when(...step(actions.startTimer({ workitem: 'w1', work: 1500, rest: 300 })))
      .thenRefuses({ rule: 'timer-running', entity: 'timer', uid: USER });
    given(...planned)
      .when(...step(actions.stopTimer()))
      .thenRefuses({ rule: 'timer-idle', entity: 'timer', uid: USER });
    given(...planned)
      .when(...step(actions.addInterruption({ workitem: 'w1', reason: 'phone' })))
      .thenRefuses({ rule: 'not-running', entity: 'workitem', uid: 'w1' });
  });

  it('says how many planned pomodoros there are to remove', () => {
    given(...running)
      .when(...step(actions.removePomodoro({ workitem: 'w1', count: 3 })))
      .thenRefuses({ rule: 'too-few-planned', entity: 'workitem', uid: 'w1', available: 1 });
    given(...planned.slice(0, 2))
      .when(...step(actions.startTimer({ workitem: 'w1', work: 60, rest: 0 })))
      .thenRefuses({ rule: 'no-planned-pomodoro', entity: 'workitem', uid: 'w1' });
  });

  it('names what is missing or already there', () => {
    given(...planned)
      .when(...step(actions.moveWorkitem({ uid: 'w1', backlog: 'b9' })))
      .thenRefuses({ rule: 'not-found', entity: 'backlog', uid: 'b9' });
    given(...planned)
      .when(...step(actions.createBacklog({ uid: 'b1', name: 'again' })))
      .thenRefuses({ rule: 'already-exists', entity: 'backlog', uid: 'b1' });
    given(...planned)
      .when(...step(actions.createCategory({ uid: 'c1', parent: 'c9', name: 'x' })))
      .thenRefuses({ rule: 'not-found', entity: 'category', uid: 'c9' });
    given(...planned)
      .when(...step(actions.restoreWorkitem({ uid: 'w1' })))
      .thenRefuses({ rule: 'not-sealed', entity: 'workitem', uid: 'w1' });
    given()
      .when(...step(actions.renameCategory({ uid: '#root', name: 'x' })))
      .thenRefuses({ rule: 'root-category', entity: 'category', uid: '#root' });
  });
});
