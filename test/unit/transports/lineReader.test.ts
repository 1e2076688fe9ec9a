import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitLines } from '../../../src/core/engine/serializer';
import { openSync, closeSync } from 'node:fs';
import { anyLineStartsWith, firstRecordLine, linesOfFd, readLines } from '../../../src/transports/file/lineReader';

describe('readLines (chunked, universal newlines)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fk-lines-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (text: string): string => {
    const p = join(dir, `f${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(p, text);
    return p;
  };
  const read = (path: string, opts: Parameters<typeof readLines>[2] = {}): Array<[string, number]> => {
    const out: Array<[string, number]> = [];
    readLines(path, (t, end) => out.push([t, end]), opts);
    return out;
  };

  const texts = [
    '',
    'a',
    'a\n',
    'a\nb',
    'a\r\nb\r\n',
    'a\rb\r',
    '\n\n\r\r\n',
    'héllo wörld\r\nżółw\n',
    'x\r',
    '1, 2: A("\\"")\r\n\n#c\rz',
  ];

  it('splits like Python universal newlines at every chunk size, with byte offsets past each line', () => {
    for (const text of texts) {
      const bytes = Buffer.from(text, 'utf8');
      const path = file(text);
      for (const chunkBytes of [1, 2, 3, 5, 64]) {
        const got = read(path, { chunkBytes });
        expect(got.map(([t]) => t)).toEqual(splitLines(text));
        let prev = 0;
        for (const [t, end] of got) {
          expect(
            bytes
              .subarray(prev, end)
              .toString('utf8')
              .replace(/(\r\n|\r|\n)$/, ''),
          ).toBe(t);
          prev = end;
        }
        if (got.length > 0) expect(got[got.length - 1]?.[1]).toBe(bytes.length);
      }
    }
  });

  it('keeps an unterminated tail for later unless final, and resumes from a returned offset', () => {
    const path = file('one\ntwo\nthr');
    const ends: number[] = [];
    const end = readLines(path, (_t, e) => ends.push(e), { final: false, chunkBytes: 3 });
    expect(ends).toEqual([4, 8]);
    expect(end).toBe(8);
    expect(read(path, { from: end })).toEqual([['thr', 11]]);
    expect(read(path, { from: 4, to: 8 })).toEqual([['two', 8]]);
  });

  it('waits for the next chunk before deciding that a \\r at a chunk end is not \\r\\n', () => {
    const path = file('ab\r\ncd');
    expect(read(path, { chunkBytes: 3 })).toEqual([
      ['ab', 4],
      ['cd', 6],
    ]);
  });

  it('finds a line starting with a prefix anywhere, without decoding', () => {
    expect(anyLineStartsWith(file('1, x\n+abc\n'), '+')).toBe(true);
    expect(anyLineStartsWith(file('+abc'), '+')).toBe(true);
    expect(anyLineStartsWith(file('1, +x\r+y'), '+')).toBe(true);
    expect(anyLineStartsWith(file('1, +x\n2, +y\n'), '+')).toBe(false);
    expect(anyLineStartsWith(file(''), '+')).toBe(false);
  });

  it('iterates lines lazily, one chunk at a time, like splitLines', () => {
    for (const text of texts) {
      const fd = openSync(file(text), 'r');
      try {
        expect([...linesOfFd(fd, { chunkBytes: 2 })]).toEqual(splitLines(text));
      } finally {
        closeSync(fd);
      }
    }
  });

  it('iterates a file of many chunks with its own chunk size, lines longer than a chunk included', () => {
    const long = 'é'.repeat(40_000); // 80 KB of UTF-8, several of linesOfFd's chunks
    const text = [...Array.from({ length: 3000 }, (_, i) => `${i + 1}, line ${i}`), long, 'after\r\nlast\r'].join('\n');
    const fd = openSync(file(text), 'r');
    try {
      expect([...linesOfFd(fd)]).toEqual(splitLines(text));
    } finally {
      closeSync(fd);
    }
  });

  it('stops at the first record line', () => {
    expect(firstRecordLine(file('# header\n\n  \n+gAAA\n1, x\n'))).toBe('+gAAA');
    expect(firstRecordLine(file('# only\n\n'))).toBeNull();
  });
});
