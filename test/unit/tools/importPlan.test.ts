import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalState } from '../../../src/core/engine/canonical';
import { planImport, type SourceRecord } from '../../../src/tools/importPlan';
import type { User } from '../../../src/core/engine/model';
import type { StrategyRecord } from '../../../src/core/engine/records';
import { sealTimer } from '../../../src/core/engine/strategies/timerTransitions';
import { replay, type ReplayState } from '../../../src/core/engine/replay';
import { formatRecord, parseLine, splitLines } from '../../../src/core/engine/serializer';
import { parseInstant } from '../../../src/core/engine/time';

const NOW = parseInstant('2030-01-01T00:00:00Z') as number;
const ME = 'me@x.io';
const at = (minute: number): number => (parseInstant('2026-06-10T09:00:00Z') as number) + minute * 60_000_000;

function source(user: string, ...rows: Array<[number, StrategyRecord['name'], ...string[]]>): SourceRecord[] {
  const records: StrategyRecord[] = [
    { seq: 1, when: at(0), user: 'admin@local.host', name: 'CreateUser', params: [user, 'Someone'] },
    ...rows.map(([m, name, ...params], i) => ({ seq: i + 2, when: at(m), user, name, params })),
  ];
  return records.map((record, i) => ({ record, lineNumber: i + 1 }));
}

/** A target history of `ME` with one backlog `own` holding `o1`. */
function target(extra: string[] = []): { state: ReplayState; records: StrategyRecord[] } {
  const lines = [
    `1, 2026-06-01 08:00:00+00:00, admin@local.host: CreateUser("${ME}", "Me")`,
    `2, 2026-06-01 08:01:00+00:00, ${ME}: CreateBacklog("own", "Mine")`,
    `3, 2026-06-01 08:02:00+00:00, ${ME}: CreateWorkitem("o1", "own", "Old #work")`,
    ...extra,
  ];
  const records = lines.map((l, i) => parseLine(l, i + 1)).flatMap((p) => (p.kind === 'record' ? [p.record] : []));
  return { state: replay(lines, { now: NOW, sealAtEnd: false }), records };
}

/** gen-s01 as a source, and a target holding only its user. */
function gen01(): { lines: string[]; src: SourceRecord[]; empty: ReplayState } {
  const lines = splitLines(readFileSync(join(__dirname, '../../fixtures/oracle/gen-s01.txt'), 'utf8'));
  const src = lines.map((l, i) => ({
    record: (parseLine(l, i + 1) as { record: StrategyRecord }).record,
    lineNumber: i + 1,
  }));
  return { lines, src, empty: replay([lines[0] as string], { now: NOW, sealAtEnd: false }) };
}

/** The canonical state of the source's first line (its CreateUser) followed by the planned records. */
function stateAfter(lines: readonly string[], plan: ReturnType<typeof planImport>): unknown {
  const planned = plan.records.map((r, i) =>
    formatRecord({ seq: i + 2, when: r.when, user: 'user@local.host', name: r.name, params: r.params }),
  );
  return canonicalState(replay([lines[0] as string, ...planned], { now: NOW }), 'strict', NOW);
}

/** Drops everything that names a uid (fresh in replay mode). */
function withoutUids(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutUids);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const uidList = Array.isArray(x) && x.every((y) => typeof y === 'string');
    const namesUids =
      k === 'uid' ||
      k === 'uses' ||
      (k === 'workitem' && typeof x === 'string') ||
      ((k === 'workitems' || k === 'categories') && uidList);
    if (!namesUids) out[k] = withoutUids(x);
  }
  return out;
}

let counter = 0;
const newId = (): string => `new-${++counter}`;
beforeEach(() => {
  counter = 0;
});

describe('planImport --replay', () => {
  it('maps records to the target user with fresh uids and the original timestamps, skipping user records', () => {
    const src = source(
      'alice@x.io',
      [1, 'CreateBacklog', 'b', 'Hers'],
      [2, 'CreateWorkitem', 'w', 'b', 'Read #study'],
      [3, 'AddPomodoro', 'w', '1'],
    );
    const plan = planImport(src, target().state, { mode: 'replay', user: ME, newId, now: NOW });
    expect(plan.records.map((r) => [r.sourceLine, r.when, r.name, r.params])).toEqual([
      [2, at(1), 'CreateBacklog', ['new-1', 'Hers']],
      [3, at(2), 'CreateWorkitem', ['new-2', 'new-1', 'Read #study']],
      [4, at(3), 'AddPomodoro', ['new-2', '1']],
    ]);
    expect(plan.skipped).toEqual([{ sourceLine: 1, name: 'CreateUser', reason: 'user records are not imported' }]);
    const me = plan.result.tenant.users.get(ME);
    expect(me?.backlogs.values().map((b) => b.name)).toEqual(['Mine', 'Hers']);
  });

  it('lets a pomodoro that ran in the past ring and finish at its planned time (no re-run)', () => {
    const src = source(
      'alice@x.io',
      [1, 'CreateBacklog', 'b', 'B'],
      [2, 'CreateWorkitem', 'w', 'b', 'W'],
      [3, 'AddPomodoro', 'w', '1'],
      [4, 'StartTimer', 'w', '1500', '300'],
      [60, 'RenameBacklog', 'b', 'B2'],
    );
    const plan = planImport(src, target().state, { mode: 'replay', user: ME, newId, now: NOW });
    const me = plan.result.tenant.users.get(ME) as User;
    sealTimer(me, NOW); // what the next action (or the end of a replay) does
    const p = me.workitems.get('new-2')?.pomodoros[0];
    expect(p?.state).toBe('finished');
    expect(p?.dateWorkStarted).toBe(at(4));
    expect(p?.dateCompleted).toBe(at(4) + 1800 * 1_000_000);
  });

  it("translates a reorder by its neighbour, so imported items keep their order after the target's own", () => {
    const src = source(
      'alice@x.io',
      [1, 'CreateBacklog', 'b1', 'One'],
      [2, 'CreateBacklog', 'b2', 'Two'],
      [3, 'ReorderBacklog', 'b2', '0'],
    );
    const plan = planImport(src, target().state, { mode: 'replay', user: ME, newId, now: NOW });
    expect(
      plan.result.tenant.users
        .get(ME)
        ?.backlogs.values()
        .map((b) => b.name),
    ).toEqual(['Mine', 'Two', 'One']);
  });

  it("gives the source user's state, up to uids, when imported into a user with nothing", () => {
    const { lines, src, empty } = gen01();
    const plan = planImport(src, empty, { mode: 'replay', user: 'user@local.host', newId, now: NOW });
    expect(withoutUids(stateAfter(lines, plan))).toEqual(
      withoutUids(canonicalState(replay(lines, { now: NOW }), 'strict', NOW)),
    );
  });

  it('stops the whole plan at the first record the target rejects, naming the source line', () => {
    const src = source(
      'alice@x.io',
      [1, 'CreateBacklog', 'b', 'B'],
      [2, 'CreateWorkitem', 'w', 'b', 'W'],
      [3, 'AddPomodoro', 'w', '1'],
      [4, 'StartTimer', 'w', '1500', '300'],
    );
    const busy = target([
      `4, 2026-06-10 09:03:00+00:00, ${ME}: AddPomodoro("o1", "1")`,
      `5, 2026-06-10 09:03:30+00:00, ${ME}: StartTimer("o1", "1500", "300")`,
    ]);
    expect(() => planImport(src, busy.state, { mode: 'replay', user: ME, newId, now: NOW })).toThrow(
      expect.objectContaining({
        code: 'FK_ILLEGAL_STATE',
        lineNumber: 5,
        message: expect.stringMatching(/^line 5: cannot import StartTimer/),
      }),
    );
  });
});

describe('planImport --merge', () => {
  const gone = [
    `4, 2026-06-01 08:03:00+00:00, ${ME}: CreateWorkitem("o9", "own", "Gone")`,
    `5, 2026-06-01 08:04:00+00:00, ${ME}: DeleteWorkitem("o9", "")`,
  ];

  it('skips records the target already has, creates of uids it has, deletes of uids it lacks; renames what changed', () => {
    const t = target(gone);
    const src = source(
      'alice@x.io',
      [1, 'CreateBacklog', 'own', 'Mine, renamed'],
      [2, 'CreateWorkitem', 'o1', 'own', 'Old #work'],
      [3, 'CreateWorkitem', 'n1', 'own', 'New'],
      [4, 'CreateWorkitem', 'o9', 'own', 'Gone'],
      [5, 'DeleteWorkitem', 'o9', ''],
    );
    const same = src[4] as SourceRecord;
    src[4] = { ...same, record: { ...same.record, when: parseInstant('2026-06-01T08:03:00Z') as number } }; // identical to the target's line 4
    const plan = planImport(src, t.state, { mode: 'merge', user: ME, newId, now: NOW, existing: t.records });
    expect(plan.records.map((r) => [r.sourceLine, r.name, r.params])).toEqual([
      [2, 'RenameBacklog', ['own', 'Mine, renamed']],
      [4, 'CreateWorkitem', ['n1', 'own', 'New']],
    ]);
    expect(plan.skipped.map((s) => [s.sourceLine, s.reason])).toEqual([
      [1, 'user records are not imported'],
      [3, 'creates something the target already has, with the same name'],
      [5, 'already in the target'],
      [6, 'deletes something the target does not have'],
    ]);
  });

  it('skips, with the reason, a record the target rejects instead of failing', () => {
    const t = target([`4, 2026-06-02 08:00:00+00:00, ${ME}: CompleteWorkitem("o1", "finished")`]);
    const src = source(
      'alice@x.io',
      [1, 'CreateBacklog', 'own', 'Mine'],
      [2, 'CreateWorkitem', 'o1', 'own', 'Old #work'],
      [3, 'RenameWorkitem', 'o1', 'Changed'],
    );
    const plan = planImport(src, t.state, { mode: 'merge', user: ME, newId, now: NOW });
    expect(plan.records).toEqual([]);
    expect(plan.skipped.map((s) => s.reason)).toEqual([
      'user records are not imported',
      'creates something the target already has, with the same name',
      'creates something the target already has, with the same name',
      expect.stringMatching(/^rejected by the target: /),
    ]);
  });

  it("gives exactly the source user's state when merged into a user with nothing", () => {
    const { lines, src, empty } = gen01();
    const plan = planImport(src, empty, { mode: 'merge', user: 'user@local.host', newId, now: NOW });
    expect(stateAfter(lines, plan)).toEqual(canonicalState(replay(lines, { now: NOW }), 'strict', NOW));
  });

  it('refuses a source that does not replay, naming the line', () => {
    const src = source('alice@x.io', [1, 'CreateWorkitem', 'w', 'nowhere', 'W']);
    expect(() => planImport(src, target().state, { mode: 'merge', user: ME, newId, now: NOW })).toThrow(
      expect.objectContaining({ code: 'FK_HISTORY_INVALID', lineNumber: 2 }),
    );
  });
});
