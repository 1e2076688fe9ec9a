import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalState } from '../../../../src/core/engine/canonical';
import {
  decodeHistoryState,
  encodeHistoryState,
  isModelObject,
  ModelCodecError,
} from '../../../../src/core/engine/modelCodec';
import { modelSegments } from '../../../../src/core/engine/modelSegments';
import { Workitem } from '../../../../src/core/engine/model';
import { replay } from '../../../../src/core/engine/replay';
import { splitLines } from '../../../../src/core/engine/serializer';
import { generateHistory } from '../../../support/generate';
import { sameGraph } from '../../../support/sameGraph';

const NOW = Date.UTC(2030, 0, 1) * 1000;
const FIXTURES = join(__dirname, '../../../fixtures/oracle');

const encode = (state: Parameters<typeof encodeHistoryState>[0], fresh = false): string[] => {
  const lines: string[] = [];
  encodeHistoryState(state, (l) => lines.push(l), { fresh });
  return lines;
};

/** Decodes written lines as the snapshot store does: from bytes, by offset. */
const decode = (lines: readonly string[]): ReturnType<typeof decodeHistoryState> => {
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
  return decodeHistoryState((offset, length) => bytes.toString('utf8', offset, offset + length), bytes.length);
};

/** Every history the oracle fixtures hold that replays (strictly), and generated ones. */
function histories(): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = [];
  for (const f of readdirSync(FIXTURES).filter((f) => f.endsWith('.txt'))) {
    const lines = splitLines(readFileSync(join(FIXTURES, f), 'utf8'));
    try {
      replay(lines, { now: NOW });
      out.push([f, lines]);
    } catch {
      /* a broken or encrypted fixture: no snapshot is ever taken of it */
    }
  }
  for (const [n, seed] of [
    [500, 1],
    [3000, 7],
  ] as const)
    out.push([`generated ${n}/${seed}`, generateHistory(n, seed)]);
  return out;
}

describe('model codec (state snapshots)', () => {
  const cases = histories();

  it('covers the fixtures', () => {
    expect(cases.length).toBeGreaterThan(5);
  });

  it.each(cases)('restores exactly the replayed model: %s', (_name, lines) => {
    const state = replay(lines, { now: NOW, sealAtEnd: false });
    const written = encode(state);
    const back = decode(written);
    // Reflective both ways: every own property of every object, identity kept (same indexes).
    // (unread, it is written back as it was: the same bytes)
    expect(encode(back)).toEqual(written);
    modelSegments(back, isModelObject); // reads all of it
    expect(sameGraph(back, state)).toBe('same');
    expect(encode(back, true)).toEqual(written);
    expect(canonicalState(back, 'strict', NOW)).toEqual(canonicalState(state, 'strict', NOW));
  });

  it('keeps object identity: the timer pomodoro, parents and indexes share their objects', () => {
    const state = replay(generateHistory(800, 3), { now: NOW, sealAtEnd: false });
    const back = decode(encode(state));
    for (const u of back.tenant.users.values()) {
      expect(u.parent).toBe(back.tenant);
      for (const b of u.backlogs.values()) {
        for (const w of b.workitems.values()) {
          expect(u.workitems.get(w.uid)).toBe(w);
          expect(w.backlog).toBe(b);
          for (const p of w.pomodoros) expect(p.workitem).toBe(w);
        }
      }
      if (u.timer.pomodoro !== null) expect(u.timer.pomodoro.workitem.pomodoros).toContain(u.timer.pomodoro);
    }
    // and the comparison used above does see a difference deep down
    modelSegments(back, isModelObject); // reads all of it: a model read on demand compares once read
    expect(sameGraph(back, state)).toBe('same');
    const w = back.tenant.users.values()[1]?.workitems.values().next().value as Workitem;
    w.name += '!';
    expect(sameGraph(back, state)).toMatch(/^state\..*name: /);
  });

  it('refuses what it does not know instead of dropping it (a new kind of field)', () => {
    const state = replay(generateHistory(50), { now: NOW, sealAtEnd: false });
    const user = state.tenant.users.values()[1];
    const w = user?.workitems.values().next().value as Workitem;
    (w as unknown as { due: Date }).due = new Date(0);
    expect(() => encode(state)).toThrow(ModelCodecError);
    expect(() => encode(state)).toThrow(/Date at due/);
  });

  it('keeps what JSON cannot say: -0, NaN, Infinity, undefined', () => {
    const state = replay(generateHistory(50), { now: NOW, sealAtEnd: false });
    const user = state.tenant.users.values()[1];
    const w = user?.workitems.values().next().value as Workitem & Record<string, unknown>;
    Object.assign(w, { a: -0, b: Number.NaN, c: -Infinity, d: undefined });
    const back = decode(encode(state));
    const bw = back.tenant.users.values()[1]?.workitems.get(w.uid) as unknown as Record<string, unknown>;
    expect(Object.is(bw.a, -0)).toBe(true);
    expect(bw.b).toBeNaN();
    expect(bw.c).toBe(-Infinity);
    expect('d' in bw && bw.d === undefined).toBe(true);
  });

  it('rejects a cut or foreign snapshot', () => {
    const written = encode(replay(generateHistory(100), { now: NOW, sealAtEnd: false }));
    expect(() => decode(written.slice(0, -3))).toThrow(ModelCodecError);
    expect(() => decode(['{"v":99,"tags":""}'])).toThrow(/before its trailer/);
    const trailerAt = Number(written[written.length - 1]);
    const other = [...written.slice(0, -1), String(trailerAt + 1)];
    expect(() => decode(other)).toThrow(ModelCodecError);
    const head = JSON.parse(written[0] as string) as Record<string, unknown>;
    const v1 = [JSON.stringify({ ...head, v: 1 }), ...written.slice(1)];
    expect(() => decode(v1)).toThrow(ModelCodecError);
  });
});
