import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalError,
  canonicalJson,
  canonicalState,
  sortKeysDeep,
  writeCanonicalState,
} from '../../../../src/core/engine/canonical';
import { createFernetCipher, deriveFernetKey } from '../../../../src/core/crypto';
import { replay, type ReplayMode } from '../../../../src/core/engine/replay';
import { splitLines } from '../../../../src/core/engine/serializer';
import { parseInstant } from '../../../../src/core/engine/time';
import { generateHistory } from '../../../support/generate';

const FIX = join(__dirname, '../../../fixtures/oracle');

interface Case {
  name: string;
  history: string;
  args: string[];
  expected: string;
  lenient_expected?: string;
  exit: number;
}

const cases = JSON.parse(readFileSync(join(FIX, 'manifest.json'), 'utf8')) as Case[];
const fernet = new Map<string, ReturnType<typeof createFernetCipher>>();

function run(c: Case, mode: ReplayMode): unknown {
  const now = parseInstant(c.args[c.args.indexOf('--now') + 1]!)!;
  const pi = c.args.indexOf('--passphrase');
  let cipher;
  if (pi >= 0) {
    const p = c.args[pi + 1]!;
    if (!fernet.has(p)) fernet.set(p, createFernetCipher(deriveFernetKey(p)));
    cipher = fernet.get(p);
  }
  const lines = splitLines(readFileSync(join(FIX, c.history), 'utf8'));
  try {
    return JSON.parse(
      JSON.stringify(canonicalState(replay(lines, { mode, now, ...(cipher ? { cipher } : {}) }), mode, now)),
    );
  } catch (err) {
    return canonicalError(err);
  }
}

describe('replay reproduces the state Flowkeeper computes', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s (strict)', (_n, c) => {
    const want = JSON.parse(readFileSync(join(FIX, c.expected), 'utf8')) as Record<string, unknown>;
    const got = run(c, 'strict') as Record<string, unknown>;
    if ('error' in want) expect({ line: got.line, seq: got.seq }).toEqual({ line: want.line, seq: want.seq });
    else expect(got).toEqual(want);
  });

  it.each(cases.filter((c) => c.lenient_expected).map((c) => [c.name, c] as const))('%s (lenient)', (_n, c) => {
    const want = JSON.parse(readFileSync(join(FIX, c.lenient_expected!), 'utf8'));
    expect(run(c, 'lenient')).toEqual(want);
  });
});

describe('sequence rules', () => {
  const line = (seq: number, i: number) =>
    `${seq}, 2026-06-10 12:00:0${i}+00:00, admin@local.host: CreateUser("u${i}", "U")`;
  const now = parseInstant('2030-01-01T00:00:00Z')!;

  it('never checks the first sequence and then counts from 1: a file numbered from 5 fails on its second line', () => {
    expect(() => replay([line(5, 1), line(6, 2)], { now })).toThrow(
      expect.objectContaining({ code: 'FK_SEQUENCE_CONFLICT', lineNumber: 2, seq: 6 }),
    );
  });

  it('rejects a duplicate and an out-of-order sequence, naming the line', () => {
    expect(() => replay([line(1, 1), line(2, 2), line(2, 3)], { now })).toThrow(
      expect.objectContaining({ lineNumber: 3, seq: 2 }),
    );
    expect(() => replay([line(1, 1), '', '# note', line(3, 4)], { now })).toThrow(
      expect.objectContaining({ lineNumber: 4, seq: 3 }),
    );
  });

  it('lenient mode applies lines regardless of sequence, like the desktop app, noting where strict mode would stop', () => {
    const s = replay([line(5, 1), line(3, 2), line(4, 3), line(4, 4)], { now, mode: 'lenient' });
    expect(s.lastSeq).toBe(4);
    expect(s.skipped).toEqual([]);
    expect(s.sequenceProblems?.map((x) => [x.lineNumber, x.seq])).toEqual([
      [2, 3],
      [4, 4],
    ]);
  });
});

describe('generated histories', () => {
  it('replay a long valid history without any error', () => {
    const lines = generateHistory(20_000, 7);
    const s = replay(lines, { now: parseInstant('2030-01-01T00:00:00Z')! });
    expect(s.lastSeq).toBe(20_000);
  });
});

describe('canonical JSON', () => {
  it('is emitted with keys already sorted, byte-identical to a sorted-keys dump', () => {
    const c = cases.find((x) => x.name === 'fixture-random')!;
    const now = parseInstant('2030-01-01T00:00:00Z')!;
    const state = canonicalState(
      replay(splitLines(readFileSync(join(FIX, c.history), 'utf8')), { now, mode: 'lenient' }),
      'lenient',
      now,
    );
    expect(canonicalJson(state)).toBe(JSON.stringify(sortKeysDeep(state)));
  });
});

describe('canonical order', () => {
  it('sorts set-valued fields by code point (Python), not by UTF-16 unit: U+FF21 before U+1D400', () => {
    const lines = [
      '1, 2026-01-05 09:00:00+00:00, admin@local.host: CreateUser("user@local.host", "Local User")',
      '2, 2026-01-06 09:15:08+00:00, user@local.host: CreateBacklog("b1", "Day 1")',
      '3, 2026-01-06 09:15:31+00:00, user@local.host: CreateWorkitem("w\u{1D400}", "b1", "x #\u{1D400} #\uFF21 #b")',
      '4, 2026-01-06 09:15:32+00:00, user@local.host: CreateWorkitem("w\uFF21", "b1", "y #\uFF21")',
      '5, 2026-01-06 09:15:33+00:00, user@local.host: CreateWorkitem("w1", "b1", "z #\uFF21")',
    ];
    const now = parseInstant('2030-01-01T00:00:00Z')!;
    const state = replay(lines, { now, mode: 'strict' });
    const pieces: string[] = [];
    writeCanonicalState(state, 'strict', now, (p) => pieces.push(p));
    const dump = JSON.parse(pieces.join('')) as { users: Array<{ tags: Array<{ uid: string; workitems: string[] }> }> };
    const tags = dump.users[1]!.tags;
    expect(tags.map((t) => t.uid)).toEqual(['b', '\uFF41', '\u{1D400}']);
    expect(tags[1]!.workitems).toEqual(['w1', 'w\uFF21', 'w\u{1D400}']);
  });
});

describe('streamed canonical JSON', () => {
  const streamed = (lines: string[], mode: ReplayMode): string => {
    const now = parseInstant('2030-01-01T00:00:00Z')!;
    const state = replay(lines, { now, mode });
    const pieces: string[] = [];
    writeCanonicalState(state, mode, now, (p) => pieces.push(p));
    expect(pieces.join('')).toBe(canonicalJson(canonicalState(state, mode, now)));
    return pieces.join('');
  };

  it('writes exactly the canonical JSON of generated histories in pieces', () => {
    for (const seed of [1, 2, 3]) streamed(generateHistory(3000, seed), seed === 2 ? 'lenient' : 'strict');
  });

  it('writes durations Python prints unlike JSON (1e-05, fractions) the same both ways', () => {
    const head = [
      '1, 2026-01-05 09:00:00+00:00, admin@local.host: CreateUser("user@local.host", "Local User")',
      '2, 2026-01-06 09:15:08+00:00, user@local.host: CreateBacklog("b1", "Day \\"1\\" \u00e9\u{1F600}")',
      '3, 2026-01-06 09:15:31+00:00, user@local.host: CreateWorkitem("w1", "b1", "x #a")',
      '4, 2026-01-06 09:15:32+00:00, user@local.host: AddPomodoro("w1", "3", "normal")',
    ];
    const dumps = [
      ['0.00001', '1e-7'],
      ['1500.5', '0.1'],
      ['-0.0', '2.5e-5'],
    ].map(([work, rest]) =>
      streamed([...head, `5, 2026-01-06 09:16:00+00:00, user@local.host: StartTimer("w1", "${work}", "${rest}")`], 'lenient'),
    );
    expect(dumps.join('\n')).toMatch(/"rest_duration":1e-07,.*"work_duration":1e-05\}.*"work_duration":1500\.5\}/s);
  });

  it.each(['fixture-random', 'broken-bad-syntax', 'fixture-test-tags'])(
    'writes exactly the canonical JSON of %s in pieces',
    (name) => {
      const c = cases.find((x) => x.name === name)!;
      const now = parseInstant('2030-01-01T00:00:00Z')!;
      for (const mode of ['strict', 'lenient'] as const) {
        let state;
        try {
          state = replay(splitLines(readFileSync(join(FIX, c.history), 'utf8')), { now, mode });
        } catch {
          continue;
        }
        const pieces: string[] = [];
        writeCanonicalState(state, mode, now, (p) => pieces.push(p));
        expect(pieces.length).toBeGreaterThan(2);
        expect(pieces.join('')).toBe(canonicalJson(canonicalState(state, mode, now)));
      }
    },
  );
});
