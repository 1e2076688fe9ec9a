import type { Micros } from '../../../src/core/clock';
import { ADMIN_USER } from '../../../src/core/engine/model';
import type { StrategyName, StrategyRecord } from '../../../src/core/engine/records';
import { replay } from '../../../src/core/engine/replay';
import { formatRecord } from '../../../src/core/engine/serializer';
import { formatInstant } from '../../../src/core/engine/time';
import type { FkEvent, FkEventType } from '../../../src/core/notify/event';
import type { Action, Intent, Outcome } from '../../soak/actions';
import { checkHistory } from '../../soak/checkHistory';
import { checkNotifications } from '../../soak/checkNotifications';

/**
 * The soak's two proofs (test/soak) must fail when an acknowledged action is lost or doubled,
 * and when the daemon tells something the final history denies: checked on small histories.
 */
const USER = 'soak@soak.example.org';
const T0: Micros = Date.UTC(2026, 5, 10, 10) * 1000;
const S = 1_000_000;

function history(...rs: Array<[number, StrategyName, ...string[]]>): StrategyRecord[] {
  const head: StrategyRecord[] = [
    { seq: 1, when: T0, user: ADMIN_USER, name: 'CreateUser', params: [USER, 'soak'] },
    { seq: 2, when: T0, user: USER, name: 'CreateBacklog', params: ['seed', 'Seed'] },
  ];
  return [
    ...head,
    ...rs.map(([at, name, ...params], i) => ({ seq: i + 3, when: T0 + at * S, user: USER, name, params })),
  ];
}

const OK: Outcome = { code: 0, killed: false, hung: false, error: '' };
const CUT: Outcome = { code: 4, killed: false, hung: false, error: 'fk: connection lost' };
const act = (intent: Intent, outcome: Outcome = OK): Action => ({ lane: 1, intent, outcome });

/** A workitem w1 created, started (work 4 s, rest 3 s), interrupted and voided at 2 s. */
const voided = history(
  [0, 'CreateWorkitem', 'w1', 'seed', 'Item'],
  [0, 'AddPomodoro', 'w1', '1', 'normal'],
  [1, 'StartTimer', 'w1', '4', '3'],
  [3, 'AddInterruption', 'w1', 'v1', ''],
  [3, 'StopTimer', '', ''],
);
const voidedActions = [
  act({ kind: 'workitem', uid: 'w1', backlog: 'seed', name: 'Item' }),
  act({ kind: 'start', workitem: 'w1' }),
  act({ kind: 'void', reason: 'v1' }),
];

describe('soak: the history proof', () => {
  it('counts every acknowledged action present once as present, nothing lost or doubled', () => {
    const r = checkHistory(voided, voidedActions, 2);
    expect(r.total).toMatchObject({ attempted: 3, ok: 3, present: 3, lost: 0, duplicated: 0 });
    expect(r.unexplained).toBe(0);
    expect(r.problems).toEqual([]);
  });

  it('an acknowledged action missing from the history is lost; a failed one may be absent or present once', () => {
    const r = checkHistory(
      voided,
      [
        ...voidedActions,
        act({ kind: 'backlog', uid: 'b9', name: 'Gone' }),
        act({ kind: 'backlog', uid: 'b8', name: 'Failed' }, CUT),
      ],
      2,
    );
    expect(r.total).toMatchObject({ lost: 1, duplicated: 0 });
    expect(r.problems).toEqual(['lost (exit 0, absent): lane 1: fk backlog create Gone --id b9']);
    const present = checkHistory(
      history([0, 'CreateBacklog', 'b8', 'Failed']),
      [act({ kind: 'backlog', uid: 'b8', name: 'Failed' }, CUT)],
      2,
    );
    expect(present.total).toMatchObject({ present: 1, failedPresent: 1, lost: 0, duplicated: 0 });
  });

  it('a record found twice is a duplicate, whether its command exited 0 or not', () => {
    const twice = history(
      [0, 'CreateWorkitem', 'w1', 'seed', 'Item'],
      [0, 'AddPomodoro', 'w1', '1', 'normal'],
      [0, 'AddPomodoro', 'w1', '1', 'normal'],
    );
    const ok = checkHistory(twice, [voidedActions[0] as Action], 2);
    const failed = checkHistory(twice, [act({ kind: 'workitem', uid: 'w1', backlog: 'seed', name: 'Item' }, CUT)], 2);
    expect([ok.total.duplicated, failed.total.duplicated, ok.total.lost]).toEqual([1, 1, 0]);
  });

  it('a void whose StopTimer is not there is lost; records nobody asked for are unexplained', () => {
    const r = checkHistory(voided.slice(0, -1), voidedActions, 2);
    expect(r.problems).toEqual(['lost (exit 0, incomplete): lane 1: fk void --reason v1']);
    const extra = checkHistory(
      [...voided, { ...voided[2], seq: 8, params: ['w9', 'seed', 'Who?'] } as StrategyRecord],
      voidedActions,
      2,
    );
    expect(extra.unexplained).toBe(1);
  });

  it('a command that hung or exited 1 is reported, one killed on purpose is not', () => {
    const r = checkHistory(
      voided,
      [
        ...voidedActions,
        act({ kind: 'backlog', uid: 'x1', name: 'X' }, { ...CUT, code: 1 }),
        act({ kind: 'backlog', uid: 'x2', name: 'Y' }, { ...CUT, code: null, hung: true }),
        act({ kind: 'backlog', uid: 'x3', name: 'Z' }, { ...CUT, code: null, killed: true }),
      ],
      2,
    );
    expect(r.unexpectedEnds).toBe(2);
  });
});

describe('soak: the notification proof', () => {
  const modelOf = (records: StrategyRecord[]) => {
    const state = replay(records.map(formatRecord), { now: T0 + 3600 * S });
    return state.tenant.users.get(USER)!;
  };
  const event = (type: FkEventType, at: number, more: Partial<FkEvent> = {}): FkEvent => ({
    id: `${USER}/w1/Pomodoro 1/${type}@${formatInstant(T0 + at * S)}`,
    type,
    user: USER,
    at: formatInstant(T0 + at * S),
    workitem: { uid: 'w1', name: 'Item' },
    pomodoro: 'Pomodoro 1',
    ...more,
  });
  const toldVoid = [
    event('work.started', 1, { seq: 5 }),
    event('interruption.added', 3, { seq: 6 }),
    event('pomodoro.voided', 3, { seq: 7, phase: 'work' }),
  ];

  it('what the daemon told of a voided pomodoro matches; nothing is missing', () => {
    const r = checkNotifications(modelOf(voided), voided, toldVoid);
    expect(r).toMatchObject({ checked: 3, matched: 3, retracted: 0, mismatches: [], missing: [] });
  });

  it('a transition rung for a pomodoro the history voided before it is a mismatch, unless a later void retracts it', () => {
    const late = event('work.finished', 5);
    const wrong = checkNotifications(modelOf(voided), voided, [...toldVoid.slice(0, 2), late, toldVoid[2] as FkEvent]);
    expect(wrong.mismatches).toEqual([`${late.id}: the final history has no such happening and no void retracts it`]);
    const retracting = { ...(toldVoid[2] as FkEvent), retracts: [late.id] };
    const right = checkNotifications(modelOf(voided), voided, [...toldVoid.slice(0, 2), late, retracting]);
    expect(right).toMatchObject({ retracted: 1, mismatches: [], missing: [] });
  });

  it('a wrong seq or phase, a missing happening, a retraction of what happened, and a conflict are all caught', () => {
    const model = modelOf(voided);
    expect(checkNotifications(model, voided, [toldVoid[0] as FkEvent, toldVoid[1] as FkEvent]).missing).toHaveLength(1);
    const badPhase = checkNotifications(model, voided, [
      ...toldVoid.slice(0, 2),
      event('pomodoro.voided', 3, { seq: 7, phase: 'rest' }),
    ]);
    expect(badPhase.mismatches).toHaveLength(1);
    const badSeq = checkNotifications(model, voided, [event('work.started', 1, { seq: 4 }), ...toldVoid.slice(1)]);
    expect(badSeq.mismatches).toHaveLength(1);
    const ran = history(
      [0, 'CreateWorkitem', 'w1', 'seed', 'Item'],
      [0, 'AddPomodoro', 'w1', '1', 'normal'],
      [1, 'StartTimer', 'w1', '4', '3'],
    );
    const finished = event('work.finished', 5);
    const retractsTruth = checkNotifications(modelOf(ran), ran, [
      event('work.started', 1, { seq: 5 }),
      finished,
      event('rest.finished', 8),
      event('pomodoro.voided', 6, { seq: 6, phase: 'rest', retracts: [finished.id] }),
    ]);
    expect(retractsTruth.mismatches).toEqual([
      `${USER}/w1/Pomodoro 1/pomodoro.voided@${formatInstant(T0 + 6 * S)} retracts ${finished.id}, which the ` +
        `final history says happened`,
      `${USER}/w1/Pomodoro 1/pomodoro.voided@${formatInstant(T0 + 6 * S)}: the final history has no such happening`,
    ]);
    const conflict: FkEvent = {
      ...event('daemon.conflict', 9),
      workitem: null,
      pomodoro: null,
      detail: { code: 'FK_SEQUENCE_CONFLICT' },
    };
    expect(checkNotifications(model, voided, [...toldVoid, conflict]).mismatches).toHaveLength(1);
  });
});
