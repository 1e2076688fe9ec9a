import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../../../../src/core/errors';
import { formatRecord, parseLine, splitLines } from '../../../../src/core/engine/serializer';
import { formatInstant, parseInstant } from '../../../../src/core/engine/time';

const FIX = join(__dirname, '../../../fixtures/oracle');

function record(text: string, n = 1) {
  const p = parseLine(text, n);
  if (p.kind !== 'record') throw new Error('expected a record');
  return p.record;
}

describe('serializer', () => {
  it('round-trips every record line of a real Flowkeeper file byte for byte', () => {
    const lines = splitLines(readFileSync(join(FIX, 'fixture-random.txt'), 'utf8'));
    expect(lines.length).toBeGreaterThan(2000);
    for (const [i, line] of lines.entries()) expect(formatRecord(record(line, i + 1))).toBe(line);
  });

  it.each([
    ['a "quoted" name', 'CreateBacklog("b1", "a \\"quoted\\" name")'],
    ['back\\slash', 'CreateBacklog("b1", "back\\\\slash")'],
    ['comma, inside', 'CreateBacklog("b1", "comma, inside")'],
    ['', 'CreateBacklog("b1", "")'],
    ['ünïcödé ✓ #тег', 'CreateBacklog("b1", "ünïcödé ✓ #тег")'],
  ])('escapes %j', (name, call) => {
    const line = `7, 2026-06-10 12:54:22+00:00, a@b.cd: ${call}`;
    const r = record(line);
    expect(r.params).toEqual(['b1', name]);
    expect(formatRecord(r)).toBe(line);
  });

  it('keeps microseconds, which a JS Date would lose', () => {
    const r = record('1, 2023-10-18 15:13:24.607621+00:00, admin@local.host: CreateUser("u", "U")');
    expect(formatInstant(r.when)).toBe('2023-10-18T15:13:24.607621Z');
    expect(formatRecord(r)).toContain('15:13:24.607621+00:00');
  });

  it('normalises offsets to UTC and accepts what Python fromisoformat accepts', () => {
    expect(formatInstant(parseInstant('2026-06-10 14:00:00+02:00')!)).toBe('2026-06-10T12:00:00.000000Z');
    expect(formatInstant(parseInstant('2026-06-10T12:00:00.5Z')!)).toBe('2026-06-10T12:00:00.500000Z');
    expect(parseInstant('2026-02-30 12:00:00+00:00')).toBeNull();
    expect(parseInstant('yesterday')).toBeNull();
  });

  it('treats blank lines and # comments as no record', () => {
    expect(parseLine('', 1).kind).toBe('empty');
    expect(parseLine('   ', 2).kind).toBe('empty');
    expect(parseLine('# fk-sodium v1 log=x salt=y', 3).kind).toBe('empty');
  });

  it.each([
    ['12, 2026-06-10 12:54:22+00:00, a@b.cd: AddPomodoro "w1", "1"', 'FK_PARSE_FAILED'],
    ['12, 2026-06-10 12:54:22+00:00, a@b.cd: AddPomodoro("w1", "1"', 'FK_PARSE_FAILED'],
    ['12, 2026-06-10 12:54:22+00:00, a@b.cd: AddPomodoro("w1", 1)', 'FK_PARSE_FAILED'],
    ['twelve, 2026-06-10 12:54:22+00:00, a@b.cd: AddPomodoro("w1", "1")', 'FK_PARSE_FAILED'],
    ['12, 2026-13-10 12:54:22+00:00, a@b.cd: AddPomodoro("w1", "1")', 'FK_PARSE_FAILED'],
    ['12, 2026-06-10 12:54:22+00:00, a@b.cd: StartWrok("w1", "1")', 'FK_UNKNOWN_STRATEGY'],
  ])('rejects %j with %s, naming the line and no sequence', (line, code) => {
    let err: unknown;
    try {
      parseLine(line, 42);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect(err).toMatchObject({ code, lineNumber: 42, seq: null });
    expect((err as Error).message).toMatch(/^line 42: /);
  });

  it('splits lines like Python universal newlines', () => {
    expect(splitLines('a\r\nb\rc\nd\n')).toEqual(['a', 'b', 'c', 'd']);
    expect(splitLines('a\n\nb')).toEqual(['a', '', 'b']);
  });

  describe('reads lines exactly as Flowkeeper does (SimpleSerializer.REGEX, Python 3.11 fromisoformat)', () => {
    const L = (rest: string): string => `3, 2026-06-10 12:54:22+00:00, alice@example.org: ${rest}`;
    const fails = (text: string): { code: string; seq: number | null } => {
      try {
        parseLine(text, 9);
      } catch (err) {
        return err as { code: string; seq: number | null };
      }
      throw new Error(`parsed: ${text}`);
    };

    it('ignores text before the sequence number and after the closing parenthesis', () => {
      expect(record(`  ${L('CreateBacklog("b1", "x") # a note')}`).params).toEqual(['b1', 'x']);
      expect(record(L('CreateBacklog("b1", "x")) trailing words')).seq).toBe(3);
    });

    it('takes only # at the very start of a line as a comment, and Python whitespace as blank', () => {
      expect(fails('  # indented comment').code).toBe('FK_PARSE_FAILED');
      expect(parseLine('\x1c\x85 ', 1).kind).toBe('empty');
      expect(fails('\ufeff').code).toBe('FK_PARSE_FAILED');
    });

    it('needs the first parameter and keeps only the last of a fifth and later ones', () => {
      expect(fails(L('StopTimer()')).code).toBe('FK_PARSE_FAILED');
      expect(record(L('CreateWorkitem("w", "b", "n", "c1", "c2", "c3")')).params).toEqual(['w', 'b', 'n', 'c3']);
    });

    it('wants an e-mail-like user whose last label has 2 to 4 characters', () => {
      expect(fails('3, 2026-06-10 12:54:22+00:00, a@b.c: CreateBacklog("b1", "x")').code).toBe('FK_PARSE_FAILED');
      expect(fails('3, 2026-06-10 12:54:22+00:00, alice@localhost: CreateBacklog("b1", "x")').code).toBe(
        'FK_PARSE_FAILED',
      );
    });

    it.each([
      ['2026-06-10 12:54:22.1234567+00:00', '2026-06-10T12:54:22.123456Z'],
      ['2026-06-10 12:54:22 +00:00', '2026-06-10T12:54:22.000000Z'],
      ['2026-06-10 12:54+0200', '2026-06-10T10:54:00.000000Z'],
      ['20260610 125422.5-01:30', '2026-06-10T14:24:22.500000Z'],
    ])('accepts the timestamp %j as Python does', (ts, utc) => {
      const r = record(`3, ${ts}, alice@example.org: CreateBacklog("b1", "x")`);
      expect(formatInstant(r.when)).toBe(utc);
    });

    it('rejects a T separator or Z, which the line pattern does not allow', () => {
      expect(fails('3, 2026-06-10T12:54:22+00:00, alice@example.org: CreateBacklog("b1", "x")').code).toBe(
        'FK_PARSE_FAILED',
      );
      expect(fails('3, 2026-06-10 12:54:22Z, alice@example.org: CreateBacklog("b1", "x")').code).toBe(
        'FK_PARSE_FAILED',
      );
    });

    it('marks a timestamp without offset as naive (zone null)', () => {
      expect(record('3, 2026-06-10 12:54:22, alice@example.org: CreateBacklog("b1", "x")').zone).toBeNull();
      expect(record(L('CreateBacklog("b1", "x")')).zone).toBeUndefined();
    });

    it('reads numbers with Python int() and float(), and fails a strategy it cannot build with no seq', () => {
      expect(record(L('AddPomodoro("w1", " +1_0 ")')).params[1]).toBe(' +1_0 ');
      expect(fails(L('AddPomodoro("w1", "2.0")'))).toMatchObject({ code: 'FK_PARSE_FAILED', seq: null });
      expect(fails(L('ReorderBacklog("b1")'))).toMatchObject({ code: 'FK_PARSE_FAILED', seq: null });
      expect(fails(L('AddInterruption("w1", "x", "inf")'))).toMatchObject({ code: 'FK_PARSE_FAILED', seq: null });
      expect(record(L('StartTimer("w1", " 1e2 ", "")')).params[1]).toBe(' 1e2 ');
      // int() and float() strip Unicode whitespace, but not 0x1C-0x1F
      expect(record(L('AddPomodoro("w1", "\u2003 ٣")')).params[1]).toBe('\u2003 ٣');
      expect(fails(L('AddPomodoro("w1", "2\x1c")'))).toMatchObject({ code: 'FK_PARSE_FAILED', seq: null });
    });

    it('lets the pattern, not the timestamp, take extra spaces after the first comma', () => {
      expect(
        formatInstant(record('3,   2026-06-10 12:54:22+00:00, alice@example.org: CreateBacklog("b1", "x")').when),
      ).toBe('2026-06-10T12:54:22.000000Z');
    });

    it('refuses a sequence number beyond 2^53 - 1 and more than 10,000 pomodoros at once, naming the line', () => {
      expect(
        fails('9007199254740993, 2026-06-10 12:54:22+00:00, alice@example.org: CreateBacklog("b1", "x")'),
      ).toMatchObject({
        code: 'FK_PARSE_FAILED',
        lineNumber: 9,
      });
      expect(fails(L('AddPomodoro("w1", "4294967296")'))).toMatchObject({ code: 'FK_PARSE_FAILED', lineNumber: 9 });
    });

    it("holds timestamps exactly at the edges of Python's range, and refuses one it cannot hold to the microsecond", () => {
      const at = (ts: string): string =>
        formatInstant(record(`3, ${ts}, alice@example.org: CreateBacklog("b1", "x")`).when);
      expect(at('9999-12-31 23:59:59.5+00:00')).toBe('9999-12-31T23:59:59.500000Z');
      expect(at('0001-01-01 00:00:00-01:00')).toBe('0001-01-01T01:00:00.000000Z');
      expect(at('2300-01-01 00:00:00.000002+00:00')).toBe('2300-01-01T00:00:00.000002Z');
      expect(fails('3, 2300-01-01 00:00:00.000001+00:00, alice@example.org: CreateBacklog("b1", "x")').code).toBe(
        'FK_PARSE_FAILED',
      );
    });
  });
});
