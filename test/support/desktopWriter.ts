import { appendFileSync } from 'node:fs';

/**
 * Plays the Flowkeeper desktop app writing its data file: its own sequence counter, Python's
 * `str(datetime)` for the instant (UTC, microseconds), Flowkeeper's serializer for the line
 * (`SimpleSerializer.serialize`: escaped parameters, at least two), one `open('a')` append per
 * record, no lock, no look at what else is in the file.
 */
export interface DesktopWriter {
  append(user: string, name: string, ...params: string[]): number;
  readonly seq: number;
}

/** Python's `str()` of an aware UTC datetime: `2026-06-10 10:00:00.123000+00:00` (no fraction when zero). */
export function pythonInstant(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-06-10T10:00:00.123Z
  const frac = iso.slice(20, 23);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac === '000' ? '' : `.${frac}000`}+00:00`;
}

export function desktopLine(seq: number, ms: number, user: string, name: string, params: readonly string[]): string {
  const escaped = params.map((p) => p.replace(/\\/g, '\\\\').replace(/"/g, '\\"'));
  while (escaped.length < 2) escaped.push('');
  return `${seq}, ${pythonInstant(ms)}, ${user}: ${name}("${escaped.join('", "')}")`;
}

export function desktopWriter(path: string, firstSeq = 1): DesktopWriter {
  let seq = firstSeq - 1;
  return {
    append(user, name, ...params) {
      seq++;
      appendFileSync(path, `${desktopLine(seq, Date.now(), user, name, params)}\n`);
      return seq;
    },
    get seq() {
      return seq;
    },
  };
}
