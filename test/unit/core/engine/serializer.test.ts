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
});
