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

/**
 * Python's `str()` of an aware UTC datetime `us` microseconds after the epoch:
 * `2026-06-10 10:00:00.123456+00:00` (no fraction when zero).
 */
export function pythonInstantUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2026-06-10T10:00:00.123Z
  const frac = `${iso.slice(20, 23)}${String(us - ms * 1000).padStart(3, '0')}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac === '000000' ? '' : `.${frac}`}+00:00`;
}

export function desktopLineUs(seq: number, us: number, user: string, name: string, params: readonly string[]): string {
  const escaped = params.map((p) => p.replace(/\\/g, '\\\\').replace(/"/g, '\\"'));
  while (escaped.length < 2) escaped.push('');
  return `${seq}, ${pythonInstantUs(us)}, ${user}: ${name}("${escaped.join('", "')}")`;
}

export function desktopLine(seq: number, ms: number, user: string, name: string, params: readonly string[]): string {
  return desktopLineUs(seq, ms * 1000, user, name, params);
}

/**
 * The app stamps each record with `datetime.now()` in microseconds, so two of its records (two
 * user actions) never share an instant; the writer's instants strictly increase likewise (the
 * wall clock's millisecond, or one microsecond after the previous record when records come
 * faster). Equal instants would make, say, a pomodoro voided and started again in one millisecond
 * a single happening to a daemon (an event id is `<pomodoro>/<type>@<instant>`).
 */
export function desktopWriter(path: string, firstSeq = 1): DesktopWriter {
  let seq = firstSeq - 1;
  let last = 0;
  return {
    append(user, name, ...params) {
      seq++;
      last = Math.max(Date.now() * 1000, last + 1);
      appendFileSync(path, `${desktopLineUs(seq, last, user, name, params)}\n`);
      return seq;
    },
    get seq() {
      return seq;
    },
  };
}
