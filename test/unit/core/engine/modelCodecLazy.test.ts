import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalState } from '../../../../src/core/engine/canonical';
import { applyLine, type HistoryState, type LineOutcome } from '../../../../src/core/engine/engine';
import { SnapshotReadError } from '../../../../src/core/engine/lazyRefs';
import { decodeHistoryState, encodeHistoryState, isModelObject } from '../../../../src/core/engine/modelCodec';
import { modelSegments } from '../../../../src/core/engine/modelSegments';
import type { StrategyName, StrategyRecord } from '../../../../src/core/engine/records';
import { replay } from '../../../../src/core/engine/replay';
import { formatRecord, parseLine, splitLines } from '../../../../src/core/engine/serializer';
import { STRATEGIES } from '../../../../src/core/engine/strategies';
import { timerAt } from '../../../../src/core/notify/timerView';
import { generateHistory } from '../../../support/generate';
import { sameGraph } from '../../../support/sameGraph';

const NOW = Date.UTC(2030, 0, 1) * 1000;
const USER = 'user@local.host';
const FIXTURES = join(__dirname, '../../../fixtures/oracle');

/** Written afresh (a restored model is otherwise written from its snapshot, numbered otherwise). */
const encode = (state: HistoryState): string[] => {
  const lines: string[] = [];
  encodeHistoryState(state, (l) => lines.push(l), { fresh: true });
  return lines;
};

/** A snapshot's bytes, read back lazily; `reads` lists what was read (offset, length). */
function lazily(state: HistoryState): { back: HistoryState; reads: Array<[number, number]>; bytes: Buffer } {
  const bytes = Buffer.from(
    encode(state)
      .map((l) => `${l}\n`)
      .join(''),
    'utf8',
  );
  const reads: Array<[number, number]> = [];
  const back = decodeHistoryState((offset, length) => {
    reads.push([offset, length]);
    return bytes.toString('utf8', offset, offset + length);
  }, bytes.length);
  return { back, reads, bytes };
}

/** Applies `lines` as replay does (same policy and "now"), returning what each did. */
function apply(state: HistoryState, lines: readonly string[], policy: 'strict' | 'lenient'): string[] {
  return lines.map((l) => outcome(applyLine(state, l, { policy }, { now: NOW })));
}
const outcome = (o: LineOutcome): string =>
  o.kind === 'applied' || o.kind === 'blank' || o.kind === 'lost-race' ? o.kind : `${o.kind} ${o.error.message}`;

/** Both models hold the same graph, encode the same and dump the same canonical state. */
function expectSame(lazy: HistoryState, full: HistoryState): void {
  modelSegments(lazy, isModelObject); // walks (so reads) all of it
  expect(sameGraph(lazy, full)).toBe('same');
  // (the codec writes no errors: a lenient history with skipped lines is never snapshotted)
  if (full.skipped.length === 0 && full.sequenceProblems.length === 0) expect(encode(lazy)).toEqual(encode(full));
  expect(canonicalState(lazy, 'lenient', NOW)).toEqual(canonicalState(full, 'lenient', NOW));
}

/**
 * A tail that runs every strategy, mostly on objects deep in the snapshot (segments not read yet
 * when the record comes), so that each strategy meets a lazily restored model.
 */
function everyKindTail(prefix: readonly string[]): string[] {
  const records = prefix.map((l, i) => parseLine(l, i + 1)).flatMap((p) => (p.kind === 'record' ? [p.record] : []));
  const last = records[records.length - 1] as StrategyRecord;
  const of = (name: StrategyName): StrategyRecord[] => records.filter((r) => r.name === name);
  const backlogs = of('CreateBacklog').map((r) => r.params[0] as string);
  const workitems = of('CreateWorkitem').map((r) => r.params[0] as string);
  const categorized = of('UpdateWorkitemCategories');
  const [b1, b2, b3, b4] = [backlogs[1], backlogs[2], backlogs[3], backlogs[5]] as [string, string, string, string];
  const completed = new Set(of('CompleteWorkitem').map((r) => r.params[0] as string));
  const open = workitems.filter((x) => !completed.has(x));
  const w = (i: number): string => open[(i + open.length) % open.length] as string;
  const done = [...completed][0] as string;
  const c = categorized[2] as StrategyRecord;
  const [cw, , cadded] = c.params as [string, string, string];
  let seq = last.seq;
  let when = last.when;
  const out: string[] = [];
  const rec = (name: StrategyName, user: string, ...params: string[]): void => {
    when += 60_000_000;
    out.push(formatRecord({ seq: ++seq, when, user, name, params } as StrategyRecord));
  };
  const admin = 'admin@local.host';
  rec('CreateUser', admin, 'other@local.host', 'Other');
  rec('RenameUser', admin, 'other@local.host', 'Other Two');
  rec('CreateBacklog', 'other@local.host', 'ob-1', 'Theirs');
  rec('CreateWorkitem', 'other@local.host', 'ow-1', 'ob-1', 'Their item');
  rec('DeleteUser', admin, 'other@local.host', '');
  rec('CreateBacklog', USER, 'nb-1', 'New');
  rec('CreateWorkitem', USER, 'nw-1', 'nb-1', 'New item #Alpha');
  rec('RenameBacklog', USER, b1, 'Renamed');
  rec('CreateCategory', USER, 'cat-1', '#root', 'Mine');
  rec('RenameCategory', USER, 'cat-1', 'Mine too');
  rec('CreateCategory', USER, 'cat-2', '#root', 'Other');
  rec('ReorderCategory', USER, 'cat-2', '0');
  rec('UpdateWorkitemCategories', USER, w(3), '', 'cat-1');
  rec('UpdateWorkitemCategories', USER, cw, cadded, 'cat-2');
  rec('RenameWorkitem', USER, w(4), 'Renamed item #Beta');
  rec('ReorderWorkitem', USER, w(4), '0');
  rec('MoveWorkitem', USER, w(3), 'nb-1');
  rec('AddPomodoro', USER, w(5), '2', 'normal');
  rec('RemovePomodoro', USER, w(5), '1');
  rec('StartWork', USER, w(5), '1500', '300');
  rec('AddInterruption', USER, w(5), 'a call', '10');
  rec('VoidPomodoro', USER, w(5));
  rec('RestoreWorkitem', USER, done);
  rec('AddPomodoro', USER, done, '1', 'tracker');
  rec('StartTimer', USER, done, '');
  rec('FinishTracking', USER, done);
  rec('CompleteWorkitem', USER, done, 'canceled');
  rec('AddPomodoro', USER, 'nw-1', '1', 'normal');
  rec('StartTimer', USER, 'nw-1', '1500', '300');
  rec('StopTimer', USER, '', '');
  rec('DeleteWorkitem', USER, w(7));
  rec('DeleteCategory', USER, 'cat-1');
  rec('ReorderBacklog', USER, b2, '0');
  rec('DeleteBacklog', USER, b3);
  rec('StartTimer', USER, workitems[workitems.length - 2] as string, '1500', '300');
  rec('AddPomodoro', USER, w(-3), '1', 'normal');
  rec('CreateWorkitem', USER, 'nw-2', b4, 'Late item');
  rec('FlyToTheMoon' as StrategyName, USER);
  return out;
}

describe('model codec, read on demand', () => {
  const prefix = generateHistory(3000, 11);

  it('the tail exercises every strategy', () => {
    const names = new Set(everyKindTail(prefix).map((l) => /: (\w+)\(/.exec(l)?.[1]));
    for (const name of Object.keys(STRATEGIES)) expect([name, names.has(name)]).toEqual([name, true]);
  });

  it.each(['strict', 'lenient'] as const)(
    'a lazily restored model that then applies every kind of record is the full replay (%s)',
    (policy) => {
      const tail = everyKindTail(prefix).slice(0, policy === 'strict' ? -1 : undefined);
      const full = replay(prefix, { now: NOW, sealAtEnd: false });
      const fullOut = apply(full, tail, policy);
      const { back } = lazily(replay(prefix, { now: NOW, sealAtEnd: false }));
      const lazyOut = apply(back, tail, policy);
      expect(lazyOut).toEqual(fullOut);
      // the tail is meant to apply (but for the unknown strategy at its end)
      expect(fullOut.filter((o) => o !== 'applied')).toEqual(policy === 'strict' ? [] : [expect.stringMatching(/FlyToTheMoon/)]);
      expectSame(back, full);
    },
  );

  it('a record applied to a model read lazily reads only the segments it reaches', () => {
    const state = replay(prefix, { now: NOW, sealAtEnd: false });
    const { back, reads, bytes } = lazily(state);
    const afterLoad = reads.length;
    expect(afterLoad).toBe(3); // the last line, the trailer, the header
    const user = back.tenant.users.get(USER);
    expect(timerAt(user!, NOW)).toEqual(timerAt(state.tenant.users.get(USER)!, NOW));
    const tail = everyKindTail(prefix);
    const add = tail.find((l) => l.includes('AddPomodoro("nw-1"')) as string;
    const start = tail.find((l) => l.includes('StartTimer("nw-1"')) as string;
    expect(apply(back, [tail[5] as string, tail[6] as string, add, start], 'lenient')).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
    ]);
    expect(back.tenant.users.get(USER)?.timer.pomodoro?.workitem.uid).toBe('nw-1');
    const read = reads.slice(afterLoad).reduce((n, [, len]) => n + len, 0);
    expect(read).toBeLessThan(bytes.length / 10);
  });

  it('a snapshot written from a lazily restored model copies what it never read, and reads back as the full replay', () => {
    const more = generateHistory(4500, 11);
    const numbered = (ls: string[]): string[] => ls.map((l, i) => l.replace(/^\d+/, String(3001 + i)));
    // every kind of record, then more days; only what applies (a snapshot is of a valid history)
    const tried = numbered([...everyKindTail(prefix).slice(0, -1), ...more.slice(3000)]);
    const outcomes = apply(replay(prefix, { now: NOW, sealAtEnd: false }), tried, 'lenient');
    const tail = numbered(tried.filter((_, i) => outcomes[i] === 'applied'));
    expect(tail.length).toBeGreaterThan(1400);
    const full = replay(prefix, { now: NOW, sealAtEnd: false });
    expect(apply(full, tail, 'strict').every((o) => o === 'applied')).toBe(true);
    let lines = encode(replay(prefix, { now: NOW, sealAtEnd: false }));
    let state: HistoryState | null = null;
    for (let from = 0; from < tail.length; from += 400) {
      const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
      state = decodeHistoryState((o, n) => bytes.toString('utf8', o, o + n), bytes.length);
      apply(state, tail.slice(from, from + 400), 'strict');
      const next: string[] = [];
      encodeHistoryState(state, (l) => next.push(l));
      // most segments are copied byte for byte (those the 400 records never reached)
      const before = new Set(lines);
      expect(next.filter((l) => before.has(l)).length).toBeGreaterThan(lines.length / 2);
      lines = next;
    }
    const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
    const back = decodeHistoryState((o, n) => bytes.toString('utf8', o, o + n), bytes.length);
    expectSame(back, full);
    expectSame(state as HistoryState, full);
  });

  it('a segment that refers into another one is written afresh, never copied, and its reference holds', () => {
    // Flowkeeper's model has no such reference today; the codec must not depend on that.
    const make = (): HistoryState => {
      const st = replay(prefix, { now: NOW, sealAtEnd: false });
      const bs = st.tenant.users.get(USER)?.backlogs.values() ?? [];
      const w = bs[2]?.workitems.values()[0] as object;
      (w as Record<string, unknown>).friend = bs[5]?.workitems.values()[0]?.pomodoros[0];
      return st;
    };
    const full = make();
    const { back } = lazily(make());
    const rewrite = (st: HistoryState): HistoryState => {
      const next: string[] = [];
      encodeHistoryState(st, (l) => next.push(l));
      expect((JSON.parse(next[next.length - 2] as string) as { x: number[] }).x.length).toBeGreaterThan(0);
      const bytes = Buffer.from(next.map((l) => `${l}\n`).join(''), 'utf8');
      return decodeHistoryState((o, n) => bytes.toString('utf8', o, o + n), bytes.length);
    };
    const again = rewrite(rewrite(back));
    const w = again.tenant.users.get(USER)?.backlogs.values()[2]?.workitems.values()[0] as unknown as Record<string, unknown>;
    const friend = w.friend as { workitem: { backlog: unknown } };
    expect(friend.workitem.backlog).toBe(again.tenant.users.get(USER)?.backlogs.values()[5]);
    expectSame(again, full);
  });

  it('restores every fixture split anywhere, then applies the rest as the full replay does', () => {
    for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.txt') && !x.startsWith('enc'))) {
      const lines = splitLines(readFileSync(join(FIXTURES, f), 'utf8'));
      for (const cut of [1, 3, Math.floor(lines.length / 3), Math.floor((2 * lines.length) / 3)]) {
        let head: HistoryState;
        try {
          head = replay(lines.slice(0, cut), { now: NOW, sealAtEnd: false });
        } catch {
          continue; // no snapshot is taken of a broken prefix
        }
        const full = replay(lines.slice(0, cut), { now: NOW, sealAtEnd: false });
        const fullOut = apply(full, lines.slice(cut), 'lenient');
        const { back } = lazily(head);
        expect([f, cut, apply(back, lines.slice(cut), 'lenient')]).toEqual([f, cut, fullOut]);
        if (back.skipped.length === 0 && back.sequenceProblems.length === 0) {
          // written from its snapshot (copying what it never read) and read back: the same model
          const next: string[] = [];
          encodeHistoryState(back, (l) => next.push(l));
          const bytes = Buffer.from(next.map((l) => `${l}\n`).join(''), 'utf8');
          expectSame(decodeHistoryState((o, n) => bytes.toString('utf8', o, o + n), bytes.length), full);
        }
        expectSame(back, full);
      }
    }
  });

  it('a segment that no longer reads as it did fails where it is reached, never silently', () => {
    const state = replay(prefix, { now: NOW, sealAtEnd: false });
    const bytes = Buffer.from(
      encode(state)
        .map((l) => `${l}\n`)
        .join(''),
      'utf8',
    );
    const damaged = Buffer.alloc(bytes.length, 0x20); // the whole file overwritten under the model
    let loaded = false;
    const back = decodeHistoryState(
      (offset, length) => (loaded ? damaged : bytes).toString('utf8', offset, offset + length),
      bytes.length,
    );
    loaded = true;
    const user = back.tenant.users.get(USER);
    expect(() => user?.backlogs.values()).toThrow(SnapshotReadError);
    const tail = everyKindTail(prefix);
    expect(() => apply(back, [tail[5] as string, tail[6] as string], 'lenient')).toThrow(SnapshotReadError);
  });
});
