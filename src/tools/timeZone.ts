import type { Micros } from '../core/clock';
import { InputError } from '../core/errors';

/**
 * Calendar days and wall-clock times in an IANA time zone (`Europe/Paris`, `UTC`), daylight
 * saving included, through the runtime's time-zone database (`Intl`; no I/O). Instants are
 * microseconds since the epoch; fractions of a millisecond do not change a day or a minute.
 */
export interface Zone {
  readonly name: string;
  /** `YYYY-MM-DD` of the instant, on the zone's wall clock. */
  day(t: Micros): string;
  /** `HH:MM` of the instant, on the zone's wall clock. */
  time(t: Micros): string;
  /** Minutes east of UTC at the instant. */
  offsetMinutes(t: Micros): number;
  /** The first instant of the day `YYYY-MM-DD` in the zone (its midnight, or the first hour after a gap). */
  startOfDay(day: string): Micros;
}

const cache = new Map<string, Zone>();

/** The zone named `name`; an `InputError` naming `what` (the option) for a zone the runtime does not know. */
export function timeZone(name: string, what = 'time zone'): Zone {
  const hit = cache.get(name);
  if (hit) return hit;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    const msg = `${what} must be an IANA time zone like Europe/Paris or UTC, got '${name}'`;
    throw new InputError('FK_INPUT_INVALID', msg);
  }
  const parts = (t: Micros): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const p of fmt.formatToParts(new Date(Math.floor(t / 1000)))) {
      if (p.type !== 'literal') out[p.type] = Number(p.value);
    }
    return out;
  };
  const pad = (n: number | undefined, w = 2): string => String(n ?? 0).padStart(w, '0');
  const offsetMinutes = (t: Micros): number => {
    const p = parts(t);
    const wall = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
    return Math.round((wall - Math.floor(t / 1_000_000) * 1000) / 60_000);
  };
  const zone: Zone = {
    name: fmt.resolvedOptions().timeZone,
    day: (t) => {
      const p = parts(t);
      return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
    },
    time: (t) => {
      const p = parts(t);
      return `${pad(p.hour)}:${pad(p.minute)}`;
    },
    offsetMinutes,
    startOfDay: (day) => {
      const [y, m, d] = day.split('-').map(Number) as [number, number, number];
      const utcMidnight = Date.UTC(y, m - 1, d) * 1000;
      // Midnight on the wall clock is UTC midnight minus the offset in force then; offsets change
      // at most twice a day, so two corrections settle it. A day that starts in a gap starts later.
      let t = utcMidnight - offsetMinutes(utcMidnight) * 60_000_000;
      t = utcMidnight - offsetMinutes(t) * 60_000_000;
      while (zone.day(t) < day) t += 15 * 60_000_000;
      return t;
    },
  };
  cache.set(name, zone);
  return zone;
}

/** The zone a user means: `--tz`, else `TZ`, else the system's (the runtime resolves both). */
export function userTimeZone(flag: string | undefined, envTz: string | undefined): Zone {
  if (flag !== undefined) return timeZone(flag, "option '--tz'");
  if (envTz !== undefined && envTz !== '') {
    const name = envTz.startsWith(':') ? envTz.slice(1) : envTz;
    return timeZone(name, 'environment variable TZ');
  }
  return timeZone(new Intl.DateTimeFormat().resolvedOptions().timeZone);
}
