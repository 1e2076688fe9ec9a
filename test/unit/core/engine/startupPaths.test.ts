import { tagsOf } from '../../../../src/core/engine/strategies/tags';
import { pyFloat, pyInt } from '../../../../src/core/engine/strategies/pyNumbers';
import { parseFlowkeeperInstant, parseInstant } from '../../../../src/core/engine/time';

/**
 * The start-up paths that avoid a pattern (issue 12) read what the pattern reads: tags of ASCII
 * names without the Unicode pattern, the day of a Flowkeeper timestamp without the ISO pattern,
 * and Python's numbers with their Unicode patterns built only when needed.
 */

/** A small deterministic generator (xorshift), so a failure repeats. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const TAG_PATTERN = /#([\p{L}\p{N}_]+)/gu;
const byPattern = (name: string): string[] => [...name.matchAll(TAG_PATTERN)].map((m) => (m[1] as string).toLowerCase());

describe('tagsOf', () => {
  it.each([
    '',
    'no tags',
    '#',
    '##',
    '#a',
    'a#b',
    '#a#b',
    '#a #a #A',
    'Check design for #Beta',
    '#_x_ #-y #9 #a-b #a.b',
    '# spaced #',
    'end #',
    'mixed #Ünïcödé #тег #ok',
    'digits #١٢٣ and #x٣',
    '#a\u0301 combining mark',
    'emoji #😀 #ok😀',
  ])('reads the tags the pattern reads in %j', (name) => {
    expect([...tagsOf(name)]).toEqual([...new Set(byPattern(name))]);
  });

  it('agrees with the pattern on 20,000 random names', () => {
    const next = rng(12);
    const alphabet = ['#', '#', 'a', 'Z', '9', '_', '-', ' ', '.', '!', '\t', 'é', '٣', '😀', 'İ', 'ß'];
    for (let k = 0; k < 20_000; k++) {
      const ascii = next() < 0.7;
      let name = '';
      const len = Math.floor(next() * 14);
      for (let i = 0; i < len; i++) name += alphabet[Math.floor(next() * (ascii ? 10 : alphabet.length))];
      expect([...tagsOf(name)]).toEqual([...new Set(byPattern(name))]);
    }
  });
});

describe('parseFlowkeeperInstant', () => {
  it('reads the day the ISO pattern reads, and refuses what it refuses', () => {
    const next = rng(7);
    const pick = (xs: readonly string[]): string => xs[Math.floor(next() * xs.length)] as string;
    const years = ['0000', '0001', '1969', '1970', '2000', '2024', '2026', '2100', '9999', '20a6', ' 202', '２０２'];
    const months = ['00', '01', '02', '09', '12', '13', '1 ', '-1', '٠١'];
    const days = ['00', '01', '28', '29', '30', '31', '32', '3x', '+1'];
    const seps = ['-', '-', '-', '/', ' '];
    for (let k = 0; k < 5_000; k++) {
      const date = `${pick(years)}${pick(seps)}${pick(months)}${pick(seps)}${pick(days)}`;
      const frac = next() < 0.5 ? '' : '.123456';
      const fast = parseFlowkeeperInstant(`${date} 12:34:56${frac}+00:00`);
      // the `T` form is not Flowkeeper's: it goes through the ISO pattern
      const iso = parseInstant(`${date}T12:34:56${frac}+00:00`);
      expect({ date, fast }).toEqual({ date, fast: iso });
    }
  });

  it('reads the time of day the ISO pattern reads, and refuses what it refuses', () => {
    const next = rng(9);
    const pick = (xs: readonly string[]): string => xs[Math.floor(next() * xs.length)] as string;
    const hours = ['00', '09', '12', '23', '24', '2x', ' 1', '-1'];
    const minutes = ['00', '07', '59', '60', 'a0'];
    const fracs = ['', '', '.000000', '.123456', '.999999', '.12345x', ',123456', '.-12345', '0123456'];
    const colons = [':', ':', ':', '.', ' '];
    let read = 0;
    for (let k = 0; k < 5_000; k++) {
      const time = `${pick(hours)}${pick(colons)}${pick(minutes)}${pick(colons)}${pick(minutes)}${pick(fracs)}`;
      const fast = parseFlowkeeperInstant(`2026-01-06 ${time}+00:00`);
      const iso = parseInstant(`2026-01-06T${time}+00:00`);
      // the ISO pattern reads a comma as the decimal point; Flowkeeper's form never has one
      if (time.includes(',')) expect({ time, fast }).toEqual({ time, fast: null });
      else expect({ time, fast }).toEqual({ time, fast: iso });
      if (fast !== null) read++;
    }
    expect(read).toBeGreaterThan(100);
  });
});

describe('Python numbers', () => {
  it.each([
    ['1500', 1500],
    [' 15 ', 15],
    ['+7', 7],
    ['1_000', 1000],
    ['١٢٣', 123],
    ['x', null],
    ['', null],
  ])('int(%j)', (text, value) => {
    expect(pyInt(text)).toBe(value);
  });

  it.each([
    ['1.5', 1.5],
    ['١.٥', 1.5],
    ['1_0.2_5', 10.25],
    ['-inf', -Infinity],
    ['.5e1', 5],
    ['1.', 1],
    ['_1', null],
  ])('float(%j)', (text, value) => {
    expect(pyFloat(text)).toBe(value);
  });
});
