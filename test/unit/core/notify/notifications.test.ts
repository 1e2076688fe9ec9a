import { manualClock, type Micros } from '../../../../src/core/clock';
import {
  deriveEvents,
  matchesFilter,
  snapshotTimer,
  type DerivedEvent,
  type FkEvent,
} from '../../../../src/core/notify/notifications';
import type { StrategyName, StrategyRecord } from '../../../../src/core/engine/records';
import { createReplayState, executeRecord } from '../../../../src/core/engine/replay';
import { sealTimer } from '../../../../src/core/engine/strategies/timerTransitions';
import { parseInstant } from '../../../../src/core/engine/time';

const USER = 'alice@example.org';
const T0 = parseInstant('2026-06-10T10:00:00Z') as Micros;
const S = 1_000_000;

/**
 * given/when/then over event derivation: records applied one by one (snapshot before each step,
 * as the daemon does), and `seal` steps where the daemon's timer wakes up at the clock's instant.
 */
function history() {
  const clock = manualClock(T0);
  const state = createReplayState(T0);
  let seq = 0;
  const user = () => state.tenant.users.get(USER);
  const step = (record: StrategyRecord | null): DerivedEvent[] => {
    const before = snapshotTimer(user());
    if (record) {
      executeRecord(state, record, { now: clock.now() });
      state.lastSeq = record.seq;
      state.started = true;
    } else {
      const u = user();
      if (u) sealTimer(u, clock.now());
    }
    return deriveEvents(user(), before, record);
  };
  const h = {
    clock,
    /** Applies a record stamped at the clock's current instant. */
    record: (name: StrategyName, ...params: string[]) =>
      step({ seq: ++seq, when: clock.now(), user: name === 'CreateUser' ? 'admin@local.host' : USER, name, params }),
    recordAs: (who: string, name: StrategyName, ...params: string[]) =>
      step({ seq: ++seq, when: clock.now(), user: who, name, params }),
    /** The daemon wakes up at `t` (absolute) and seals. */
    sealAt: (t: Micros) => {
      clock.set(t);
      return step(null);
    },
    at: (t: Micros) => {
      clock.set(t);
      return h;
    },
  };
  h.record('CreateUser', USER, 'Alice');
  h.record('CreateBacklog', 'b1', 'Today');
  h.record('CreateWorkitem', 'w1', 'b1', 'Write report');
  h.record('AddPomodoro', 'w1', '2');
  return h;
}

const types = (es: DerivedEvent[]) => es.map((e) => e.event.type);
const only = (es: DerivedEvent[]): FkEvent => {
  expect(es).toHaveLength(1);
  return (es[0] as DerivedEvent).event;
};

describe('event derivation', () => {
  it('derives work.started from StartTimer with the planned end', () => {
    const h = history();
    const e = only(h.at(T0).record('StartTimer', 'w1', '1500', '300'));
    expect(e).toMatchObject({
      id: `${USER}/w1/Pomodoro 1/work.started@2026-06-10T10:00:00.000000Z#5`, // caused by record 5
      type: 'work.started',
      user: USER,
      at: '2026-06-10T10:00:00.000000Z',
      workitem: { uid: 'w1', name: 'Write report' },
      pomodoro: 'Pomodoro 1',
      workSeconds: 1500,
      restSeconds: 300,
      endsAt: '2026-06-10T10:25:00.000000Z',
      seq: 5,
    });
  });

  it('rings work.finished at the planned instant, then rest.finished: a complete pomodoro', () => {
    const h = history();
    h.at(T0).record('StartTimer', 'w1', '1500', '300');
    const work = only(h.sealAt(T0 + 1500 * S));
    expect(work).toMatchObject({
      type: 'work.finished',
      at: '2026-06-10T10:25:00.000000Z',
      startedAt: '2026-06-10T10:00:00.000000Z',
      elapsedSeconds: 1500,
      endsAt: '2026-06-10T10:30:00.000000Z',
      id: `${USER}/w1/Pomodoro 1/work.finished@2026-06-10T10:25:00.000000Z`,
    });
    expect(work.seq).toBeUndefined();
    const rest = only(h.sealAt(T0 + 1800 * S));
    expect(rest).toMatchObject({
      type: 'rest.finished',
      at: '2026-06-10T10:30:00.000000Z',
      startedAt: '2026-06-10T10:25:00.000000Z',
      elapsedSeconds: 300,
      longBreak: false,
    });
  });

  it('stamps transitions found late at their planned instants, both in one step, marked as timer transitions', () => {
    const h = history();
    h.at(T0).record('StartTimer', 'w1', '60', '30');
    const es = h.sealAt(T0 + 3600 * S);
    expect(types(es)).toEqual(['work.finished', 'rest.finished']);
    expect(es.map((e) => e.at)).toEqual([T0 + 60 * S, T0 + 90 * S]);
    expect(es.every((e) => e.source === 'timer')).toBe(true);
  });

  it('derives the same ids whether the daemon rang the timer or a later record sealed it', () => {
    const a = history();
    a.at(T0).record('StartTimer', 'w1', '60', '30');
    const rung = [...a.sealAt(T0 + 60 * S), ...a.sealAt(T0 + 90 * S)];
    const b = history();
    b.at(T0).record('StartTimer', 'w1', '60', '30');
    const sealedByRecord = b.at(T0 + 120 * S).record('StartTimer', 'w1', '60', '30');
    expect(types(sealedByRecord)).toEqual(['work.finished', 'rest.finished', 'work.started']);
    expect(sealedByRecord.slice(0, 2).map((e) => e.event.id)).toEqual(rung.map((e) => e.event.id));
    expect(sealedByRecord[2]?.event.pomodoro).toBe('Pomodoro 2');
  });

  it('starts a long break instead of a rest when the rest is 0, and completes it on StopTimer', () => {
    const h = history();
    h.at(T0).record('StartTimer', 'w1', '60', '0');
    expect(only(h.sealAt(T0 + 60 * S))).toMatchObject({ type: 'longbreak.started', endsAt: null, longBreak: true });
    expect(h.sealAt(T0 + 3600 * S)).toEqual([]);
    const done = only(h.at(T0 + 1200 * S).record('StopTimer', '', ''));
    expect(done).toMatchObject({ type: 'rest.finished', longBreak: true, elapsedSeconds: 1140, seq: 6 });
  });

  it('voids a pomodoro stopped during work or during its short rest, with the phase', () => {
    const h = history();
    h.at(T0).record('StartTimer', 'w1', '60', '30');
    expect(only(h.at(T0 + 10 * S).record('StopTimer', '', ''))).toMatchObject({
      type: 'pomodoro.voided',
      phase: 'work',
      elapsedSeconds: 10,
      at: '2026-06-10T10:00:10.000000Z',
    });
    h.at(T0 + 100 * S).record('StartTimer', 'w1', '60', '30');
    const es = h.at(T0 + 170 * S).record('StopTimer', '', '');
    expect(types(es)).toEqual(['work.finished', 'pomodoro.voided']);
    expect(es[1]?.event).toMatchObject({ phase: 'rest', pomodoro: 'Pomodoro 1' });
  });

  it('voids the running pomodoro when its workitem is completed, then reports the completion (design point 8)', () => {
    const h = history();
    h.at(T0).record('StartTimer', 'w1', '60', '30');
    const es = h.at(T0 + 20 * S).record('CompleteWorkitem', 'w1', 'finished');
    expect(types(es)).toEqual(['pomodoro.voided', 'workitem.completed']);
    expect(es[1]?.event).toMatchObject({
      id: `${USER}/w1/workitem.completed@2026-06-10T10:00:20.000000Z#6`,
      state: 'finished',
      pomodoro: null,
    });
  });

  it('voids the running pomodoro of a deleted workitem, keeping its name in the event', () => {
    const h = history();
    h.at(T0).record('StartTimer', 'w1', '60', '30');
    expect(only(h.at(T0 + 5 * S).record('DeleteWorkitem', 'w1', ''))).toMatchObject({
      type: 'pomodoro.voided',
      workitem: { uid: 'w1', name: 'Write report' },
    });
  });

  it('reports an interruption with its reason and duration', () => {
    const h = history();
    h.at(T0).record('StartTimer', 'w1', '60', '30');
    expect(only(h.at(T0 + 5 * S).record('AddInterruption', 'w1', 'Phone', '30'))).toMatchObject({
      type: 'interruption.added',
      reason: 'Phone',
      durationSeconds: 30,
    });
  });

  it('derives a transition that a record rings early (1 s seal margin) at its planned, future instant', () => {
    const h = history();
    h.at(T0).record('StartTimer', 'w1', '60', '30');
    const es = h.at(T0 + 59.5 * S).record('AddInterruption', 'w1', 'x', '');
    expect(types(es)).toEqual(['interruption.added', 'work.finished']);
    expect(es[1]?.at).toBe(T0 + 60 * S);
    expect(es[1]?.source).toBe('timer');
  });

  it('reports a tracker stop as its work.finished, caused by the record', () => {
    const h = history();
    h.record('CreateWorkitem', 'w2', 'b1', 'Email');
    h.record('AddPomodoro', 'w2', '1', 'tracker');
    expect(only(h.at(T0 + 20 * S).record('StartTimer', 'w2', ''))).toMatchObject({
      type: 'work.started',
      pomodoroType: 'tracker',
      endsAt: null,
    });
    const e = only(h.at(T0 + 80 * S).record('StopTimer', '', ''));
    expect(e).toMatchObject({ type: 'work.finished', pomodoroType: 'tracker', elapsedSeconds: 60 });
  });

  it('derives nothing from other users, plain edits, or a seal with nothing due', () => {
    const h = history();
    expect(h.record('RenameWorkitem', 'w1', 'Other')).toEqual([]);
    h.at(T0).record('StartTimer', 'w1', '60', '30');
    expect(h.sealAt(T0 + 30 * S)).toEqual([]);
    expect(h.recordAs('admin@local.host', 'CreateUser', 'bob@example.org', 'Bob')).toEqual([]);
  });

  it('matches filters by exact type, prefix.* and *', () => {
    expect(matchesFilter(['*'], 'work.started')).toBe(true);
    expect(matchesFilter(['work.*'], 'work.finished')).toBe(true);
    expect(matchesFilter(['work.*'], 'workitem.completed')).toBe(false);
    expect(matchesFilter(['rest.finished'], 'rest.finished')).toBe(true);
    expect(matchesFilter([], 'rest.finished')).toBe(false);
  });
});
