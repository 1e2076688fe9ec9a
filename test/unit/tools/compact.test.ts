import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addChurn } from '../../support/churn';
import { generateHistory } from '../../support/generate';
import { canonicalState } from '../../../src/core/engine/canonical';
import { compactHistory, sameHistoryState, type CompactResult } from '../../../src/tools/compact';
import { createFernetCipher } from '../../../src/core/crypto';
import { parseInstant } from '../../../src/core/engine/time';
import type { StrategyRecord } from '../../../src/core/engine/records';
import { replay } from '../../../src/core/engine/replay';
import { formatRecord, parseLine, splitLines } from '../../../src/core/engine/serializer';
import { PASSPHRASE, pinnedFernetKey } from '../../support/keys';

const ORACLE = join(__dirname, '../../fixtures/oracle');
const NOW = parseInstant('2030-01-01T00:00:00Z') as number;

function recordsOf(lines: readonly string[], cipher?: ReturnType<typeof createFernetCipher>): StrategyRecord[] {
  return lines.flatMap((l, i) => {
    const p = parseLine(cipher && l.startsWith('+') ? cipher.decryptLine(l) : l, i + 1);
    return p.kind === 'record' ? [p.record] : [];
  });
}

function fixture(name: string): StrategyRecord[] {
  const lines = splitLines(readFileSync(join(ORACLE, `${name}.txt`), 'utf8'));
  const cipher = lines.some((l) => l.startsWith('+'))
    ? createFernetCipher(pinnedFernetKey(PASSPHRASE))
    : undefined;
  return recordsOf(lines, cipher);
}

/** The canonical state (without last_seq) a strict replay of the serialized records gives at `now`. */
function stateOf(records: readonly StrategyRecord[], now = NOW): unknown {
  const s = canonicalState(replay(records.map(formatRecord), { now }), 'strict', now) as Record<string, unknown>;
  delete s.last_seq;
  return s;
}

/** The records of a fixture and their compaction, once per fixture (fixture-random takes seconds). */
const compactions = new Map<string, { input: StrategyRecord[]; frozen: string; result: CompactResult }>();
function compactFixture(name: string): { input: StrategyRecord[]; frozen: string; result: CompactResult } {
  let c = compactions.get(name);
  if (c === undefined) {
    const input = fixture(name);
    const frozen = JSON.stringify(input);
    c = { input, frozen, result: compactHistory(input, { now: NOW }) };
    compactions.set(name, c);
  }
  return c;
}

function expectSameStateAndShorter(input: StrategyRecord[], minSaved: number, done?: CompactResult): CompactResult {
  const frozen = JSON.stringify(input);
  const result = done ?? compactHistory(input, { now: NOW });
  expect(JSON.stringify(input)).toBe(frozen); // the source is never modified
  expect(result.records.length).toBe(input.length - result.saved);
  expect(result.saved).toBeGreaterThanOrEqual(minSaved);
  expect(result.records.map((r) => r.seq)).toEqual(result.records.map((_r, i) => i + 1));
  expect(stateOf(result.records)).toEqual(stateOf(input));
  return result;
}

describe('compactHistory', () => {
  it.each([
    ['fixture-random', 400],
    ['gen-s01', 10],
    ['enc-s01', 10],
    ['gen-s05-cut-work', 30],
    ['gen-s06-cut-rest', 5],
    ['gen-s09-cut-longbreak', 5],
    ['fixture-test-tags', 0],
  ])('compacts the shared fixture %s to the same final state, shorter', (name, minSaved) => {
    const { input, frozen, result } = compactFixture(name);
    expect(JSON.stringify(input)).toBe(frozen);
    expectSameStateAndShorter(input, minSaved, result);
  });

  it("gives the oracle's own final state for fixture-random (all but last_seq)", () => {
    const { records } = compactFixture('fixture-random').result;
    const expected = JSON.parse(readFileSync(join(ORACLE, 'fixture-random.expected.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    delete expected.last_seq;
    expect(JSON.parse(JSON.stringify(stateOf(records)))).toEqual(expected);
  });

  it('keeps the state of a generated history and never makes it longer (it has almost nothing to drop)', () => {
    const input = recordsOf(generateHistory(3000));
    const r = expectSameStateAndShorter(input, 0);
    expect(r.outputRecords).toBeLessThanOrEqual(r.inputRecords);
  });

  it('removes the churn of a generated history: same state, a third shorter', () => {
    const input = recordsOf(addChurn(generateHistory(3000)));
    const r = expectSameStateAndShorter(input, Math.floor(input.length / 3));
    for (const rule of [
      'deleted-backlog',
      'deleted-workitem',
      'intermediate-rename',
      'pomodoro-add-remove',
      'complete-restore',
      'category-add-remove',
    ] as const) {
      expect(r.rules[rule].removed).toBeGreaterThan(0);
    }
  });

  it('compacts an interleaved two-user history, dropping a deleted user entirely', () => {
    const a = recordsOf(addChurn(generateHistory(600, 1, 'a@x.io'), 3));
    const b = recordsOf(addChurn(generateHistory(600, 2, 'b@x.io'), 4)).map((r) => ({ ...r, when: r.when + 777 }));
    const merged = [...a, ...b].sort((x, y) => x.when - y.when);
    const end = (merged[merged.length - 1] as StrategyRecord).when;
    const firstBacklog = a.find((r) => r.name === 'CreateBacklog')?.params[0] ?? '';
    const input = [
      ...merged,
      { seq: 0, when: end + 1000, user: 'admin@local.host', name: 'DeleteUser' as const, params: ['b@x.io', ''] },
      { seq: 0, when: end + 2000, user: 'a@x.io', name: 'RenameBacklog' as const, params: [firstBacklog, 'Renamed'] },
    ].map((r, i) => ({ ...r, seq: i + 1 }));
    const r = expectSameStateAndShorter(input, b.length);
    expect(r.rules['deleted-user'].removed).toBe(b.length + 1);
  });

  it('stays identical at a later instant too (pending timers ring the same way)', () => {
    const input = fixture('gen-s05-cut-work');
    const { records } = compactHistory(input, { now: parseInstant('2026-06-11T13:09:01.05Z') as number });
    const later = parseInstant('2027-01-01T00:00:00Z') as number;
    expect(stateOf(records, later)).toEqual(stateOf(input, later));
  });
});

const at = (minute: number): number => (parseInstant('2026-06-10T09:00:00Z') as number) + minute * 60_000_000;
const U = 'u@x.io';
function history(...rows: Array<[number, StrategyRecord['name'], ...string[]]>): StrategyRecord[] {
  return [
    { seq: 1, when: at(0), user: 'admin@local.host', name: 'CreateUser', params: [U, 'U'] },
    ...rows.map(([m, name, ...params], i) => ({ seq: i + 2, when: at(m), user: U, name, params })),
  ];
}
const names = (rs: readonly StrategyRecord[]): string[] => rs.map((r) => `${r.name}(${r.params.join(',')})`);

describe('compaction rules', () => {
  it('drops a workitem created and deleted, when later work touches its backlog', () => {
    const input = history(
      [1, 'CreateBacklog', 'b', 'Day'],
      [2, 'CreateWorkitem', 'tmp', 'b', 'Scratch #idea'],
      [3, 'AddPomodoro', 'tmp', '2'],
      [4, 'DeleteWorkitem', 'tmp', ''],
      [5, 'CreateWorkitem', 'w', 'b', 'Real work'],
    );
    const r = compactHistory(input, { now: NOW });
    expect(names(r.records)).toEqual(['CreateUser(u@x.io,U)', 'CreateBacklog(b,Day)', 'CreateWorkitem(w,b,Real work)']);
    expect(r.rules['deleted-workitem'].removed).toBe(3);
  });

  it('keeps a deleted workitem whose work started its backlog (date_work_started would change)', () => {
    const input = history(
      [1, 'CreateBacklog', 'b', 'Day'],
      [2, 'CreateWorkitem', 'tmp', 'b', 'First'],
      [3, 'AddPomodoro', 'tmp', '1'],
      [4, 'StartTimer', 'tmp', '1500', '300'],
      [40, 'DeleteWorkitem', 'tmp', ''],
      [41, 'CreateWorkitem', 'w', 'b', 'Second'],
    );
    const r = compactHistory(input, { now: NOW });
    expect(names(r.records)).toContain('StartTimer(tmp,1500,300)');
    expect(stateOf(r.records)).toEqual(stateOf(input));
  });

  it('collapses renames to the last one, but keeps a rename whose new #tag survives (tag create date)', () => {
    const input = history(
      [1, 'CreateBacklog', 'b', 'Day'],
      [2, 'CreateWorkitem', 'w', 'b', 'Plan'],
      [3, 'RenameWorkitem', 'w', 'Plan #later'],
      [4, 'RenameWorkitem', 'w', 'Plan #later v2'],
      [5, 'RenameWorkitem', 'w', 'Plan #later v3'],
      [6, 'RenameBacklog', 'b', 'Monday'],
      [7, 'RenameBacklog', 'b', 'Tuesday'],
      [8, 'AddPomodoro', 'w', '1'],
    );
    const r = compactHistory(input, { now: NOW });
    expect(names(r.records)).toEqual([
      'CreateUser(u@x.io,U)',
      'CreateBacklog(b,Day)',
      'CreateWorkitem(w,b,Plan)',
      'RenameWorkitem(w,Plan #later)',
      'RenameWorkitem(w,Plan #later v3)',
      'RenameBacklog(b,Tuesday)',
      'AddPomodoro(w,1)',
    ]);
    expect(stateOf(r.records)).toEqual(stateOf(input));
  });

  it('drops pomodoros added then removed, shrinking the add, so later ones keep their "Pomodoro N" names', () => {
    const input = history(
      [1, 'CreateBacklog', 'b', 'Day'],
      [2, 'CreateWorkitem', 'w', 'b', 'Work'],
      [3, 'AddPomodoro', 'w', '3'],
      [4, 'RemovePomodoro', 'w', '2'],
      [5, 'AddPomodoro', 'w', '1'],
      [6, 'RenameWorkitem', 'w', 'Work'],
      [7, 'AddPomodoro', 'w', '1'],
    );
    const r = compactHistory(input, { now: NOW });
    expect(names(r.records).slice(3)).toEqual(['AddPomodoro(w,1)', 'AddPomodoro(w,1)', 'AddPomodoro(w,1)']);
    expect(stateOf(r.records)).toEqual(stateOf(input));
  });

  it('drops a completion undone by a restore, and a category added then removed', () => {
    const input = history(
      [1, 'CreateBacklog', 'b', 'Day'],
      [2, 'CreateWorkitem', 'w', 'b', 'Work'],
      [3, 'CompleteWorkitem', 'w', 'canceled'],
      [4, 'RestoreWorkitem', 'w', ''],
      [5, 'UpdateWorkitemCategories', 'w', '', '#wg_MSW_S'],
      [6, 'UpdateWorkitemCategories', 'w', '#wg_MSW_S', ''],
      [7, 'AddPomodoro', 'w', '1'],
    );
    const r = compactHistory(input, { now: NOW });
    expect(names(r.records)).toEqual([
      'CreateUser(u@x.io,U)',
      'CreateBacklog(b,Day)',
      'CreateWorkitem(w,b,Work)',
      'AddPomodoro(w,1)',
    ]);
  });

  it('keeps the pair when the restore was the last touch of the workitem (a same-name rename stamps nothing)', () => {
    const input = history(
      [1, 'CreateBacklog', 'b', 'Day'],
      [2, 'CreateWorkitem', 'w', 'b', 'Work'],
      [3, 'CompleteWorkitem', 'w', 'canceled'],
      [4, 'RestoreWorkitem', 'w', ''],
      [5, 'CreateWorkitem', 'x', 'b', 'Other'],
    );
    const r = compactHistory(input, { now: NOW });
    expect(names(r.records)).toEqual([
      'CreateUser(u@x.io,U)',
      'CreateBacklog(b,Day)',
      'CreateWorkitem(w,b,Work)',
      'CompleteWorkitem(w,canceled)',
      'RestoreWorkitem(w,)',
      'CreateWorkitem(x,b,Other)',
    ]);
    expect(stateOf(r.records)).toEqual(stateOf(input));
  });

  it('drops a deleted backlog with its workitems and reorders that put an item back', () => {
    const input = history(
      [1, 'CreateBacklog', 'b', 'Day'],
      [2, 'CreateBacklog', 'tmp', 'Scratch'],
      [3, 'CreateWorkitem', 't1', 'tmp', 'x #t'],
      [4, 'DeleteBacklog', 'tmp', ''],
      [5, 'CreateWorkitem', 'w1', 'b', 'One'],
      [6, 'CreateWorkitem', 'w2', 'b', 'Two'],
      [7, 'ReorderWorkitem', 'w2', '0'],
      [8, 'ReorderWorkitem', 'w2', '2'],
      [9, 'AddPomodoro', 'w2', '1'],
    );
    const r = compactHistory(input, { now: NOW });
    expect(names(r.records)).toEqual([
      'CreateUser(u@x.io,U)',
      'CreateBacklog(b,Day)',
      'CreateWorkitem(w1,b,One)',
      'CreateWorkitem(w2,b,Two)',
      'AddPomodoro(w2,1)',
    ]);
  });

  it('never drops the last record (it decides whose timer is sealed at the end)', () => {
    const input = history(
      [1, 'CreateBacklog', 'b', 'Day'],
      [2, 'CreateWorkitem', 'w', 'b', 'W'],
      [3, 'DeleteWorkitem', 'w', ''],
    );
    const r = compactHistory(input, { now: NOW });
    expect(r.records[r.records.length - 1]?.name).toBe('DeleteWorkitem');
  });

  it('returns the history unchanged when the search budget is zero', () => {
    const input = fixture('gen-s01');
    const r = compactHistory(input, { now: NOW, maxVerifications: 0 });
    expect(r.saved).toBe(0);
    expect(names(r.records)).toEqual(names(input));
  });

  it('rejects an invalid history with FK_HISTORY_INVALID naming the record', () => {
    const input = history([1, 'CreateWorkitem', 'w', 'missing-backlog', 'W']);
    expect(() => compactHistory(input, { now: NOW })).toThrow(
      expect.objectContaining({ code: 'FK_HISTORY_INVALID', message: expect.stringContaining('record 2') }),
    );
  });

  it('reports progress without doing I/O', () => {
    const phases = new Set<string>();
    compactHistory(fixture('gen-s01'), { now: NOW, onProgress: (p) => phases.add(p.phase) });
    expect([...phases]).toEqual(['analyse', 'search', 'verify']);
  });
});

describe('sameHistoryState', () => {
  it('tells equal final states from different ones', () => {
    const a = fixture('gen-s01');
    expect(sameHistoryState(a, a, { now: NOW })).toBe(true);
    expect(sameHistoryState(a, a.slice(0, -1), { now: NOW })).toBe(false);
  });
});
