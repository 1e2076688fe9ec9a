import type { Micros } from '../../../../src/core/clock';
import type { User } from '../../../../src/core/engine/model';
import type { StrategyName, StrategyRecord } from '../../../../src/core/engine/records';
import { createReplayState, executeRecord } from '../../../../src/core/engine/replay';
import { parseInstant } from '../../../../src/core/engine/time';
import { deriveEvents, snapshotTimer, upcomingTransitions } from '../../../../src/core/notify/notifications';
import { timerAt } from '../../../../src/core/notify/timerView';

const USER = 'alice@example.org';
const T0 = parseInstant('2026-06-10T10:00:00Z') as Micros;
const S = 1_000_000;

/** A model that only records change (as the daemon keeps it); `apply` returns the step's events. */
function model() {
  const state = createReplayState(T0);
  let seq = 0;
  const user = (): User => state.tenant.users.get(USER) as User;
  const apply = (at: number, name: StrategyName, ...params: string[]) => {
    const record: StrategyRecord = {
      seq: ++seq,
      when: T0 + at * S,
      user: name === 'CreateUser' ? 'admin@local.host' : USER,
      name,
      params,
    };
    const before = snapshotTimer(state.tenant.users.get(USER));
    executeRecord(state, record, { now: T0 });
    return deriveEvents(state.tenant.users.get(USER), before, record);
  };
  apply(0, 'CreateUser', USER, 'Alice');
  apply(0, 'CreateBacklog', 'b1', 'Today');
  apply(0, 'CreateWorkitem', 'w1', 'b1', 'Write');
  apply(0, 'AddPomodoro', 'w1', '2');
  return { user, apply };
}

describe('projection of the timer (the daemon never seals the model by its clock)', () => {
  it('projects the transitions a later record seals: the same events, same ids and fields', () => {
    const m = model();
    m.apply(0, 'StartTimer', 'w1', '60', '30');
    const projected = upcomingTransitions(m.user()).map((d) => d.event);
    expect(projected.map((e) => [e.type, e.at])).toEqual([
      ['work.finished', '2026-06-10T10:01:00.000000Z'],
      ['rest.finished', '2026-06-10T10:01:30.000000Z'],
    ]);
    const sealed = m.apply(120, 'StartTimer', 'w1', '60', '30').map((d) => d.event);
    expect(sealed.slice(0, 2)).toEqual(projected);
    expect(sealed[2]?.type).toBe('work.started');
  });

  it('projects only the end of a rest already under way, and nothing for a long break or a tracker', () => {
    const m = model();
    m.apply(0, 'StartTimer', 'w1', '60', '30');
    m.apply(70, 'AddInterruption', 'w1', 'phone', ''); // seals the work end at +60
    expect(upcomingTransitions(m.user()).map((d) => d.event.type)).toEqual(['rest.finished']);
    m.apply(100, 'StartTimer', 'w1', '60', '0');
    expect(upcomingTransitions(m.user()).map((d) => d.event.type)).toEqual(['longbreak.started']);
    m.apply(170, 'AddInterruption', 'w1', 'phone', '');
    expect(upcomingTransitions(m.user())).toEqual([]);
  });

  it('timerAt shows the timer at any instant without changing the model', () => {
    const m = model();
    m.apply(0, 'StartTimer', 'w1', '60', '30');
    expect(timerAt(m.user(), T0 + 30 * S)).toMatchObject({ state: 'work', remainingSeconds: 30 });
    expect(timerAt(m.user(), T0 + 75 * S)).toMatchObject({
      state: 'rest',
      since: '2026-06-10T10:01:00.000000Z',
      until: '2026-06-10T10:01:30.000000Z',
      remainingSeconds: 15,
      pomodoroInSeries: 1,
    });
    expect(timerAt(m.user(), T0 + 90 * S)).toMatchObject({ state: 'idle', pomodoroInSeries: 1 });
    // Still in work in the model: a record stamped at +70 (in the rest) applies as it would anywhere.
    expect(m.user().timer.state).toBe('work');
    expect(m.apply(70, 'VoidPomodoro', 'w1').map((d) => d.event.type)).toEqual(['work.finished', 'pomodoro.voided']);
  });

  it('the snapshot before a step keeps what was due next, for retractions', () => {
    const m = model();
    m.apply(0, 'StartTimer', 'w1', '60', '30');
    expect(snapshotTimer(m.user()).upcoming.map((d) => d.at)).toEqual([T0 + 60 * S, T0 + 90 * S]);
  });
});
