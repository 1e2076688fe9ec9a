import type { Micros } from '../clock';

/**
 * Instants are integer microseconds since the Unix epoch: Flowkeeper (Python `datetime`) keeps
 * microseconds, which a JS `Date` would lose.
 */

const ISO_DATE_TIME = String.raw`(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?)?`;
const ISO_OFFSET = String.raw`(?:(Z)|([+-])(\d{2}):?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?`;
const ISO_RE = new RegExp(`^${ISO_DATE_TIME}${ISO_OFFSET}$`);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days in month `m` (1-12) of year `y`. */
export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : (DAYS_IN_MONTH[m - 1] as number);
}

/** Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Parses an ISO 8601 timestamp the way Python 3.11's `datetime.fromisoformat` does for the forms
 * Flowkeeper writes (`2026-06-10 12:54:22.123456+00:00`, `T` or space, 1-6 fractional digits,
 * `Z` or `±HH:MM` offsets). A timestamp without offset is taken as UTC. Returns null when invalid.
 */
export function parseInstant(text: string): Micros | null {
  return parseFlowkeeperInstant(text) ?? parseIsoInstant(text);
}

const dayCache = new Map<string, number>();

function digits(s: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Days since 1970-01-01 of the `YYYY-MM-DD` that starts `s` (ASCII digits), or null where
 * `parseIsoInstant` refuses that date: without running ISO_RE (a pattern compiled on first use).
 */
function civilDays(s: string): number | null {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return null;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  return daysFromCivil(y, mo, d);
}

/** Fast path for what Flowkeeper writes: `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`. */
export function parseFlowkeeperInstant(s: string): Micros | null {
  const n = s.length;
  if ((n !== 25 && n !== 32) || s.charCodeAt(10) !== 32 || !s.endsWith('+00:00')) return null;
  const dateKey = s.slice(0, 10);
  let days = dayCache.get(dateKey);
  if (days === undefined) {
    const civil = civilDays(s);
    if (civil === null) return null;
    // the arithmetic parseIsoInstant(`${dateKey}T00:00:00+00:00`) does, to the same result
    days = (civil * 86400 * 1_000_000) / 86_400_000_000;
    if (dayCache.size > 10_000) dayCache.clear();
    dayCache.set(dateKey, days);
  }
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  if (n === 32 && s.charCodeAt(19) !== 46) return null;
  // `HH:MM:SS[.ffffff]` read in one loop, not by a helper per field: a tiny function called for
  // each field of each line is soon hot enough for V8 to optimise it in the background (~2.4 ms
  // of CPU in `fk status` on 200 lines), a compile the exit then waits for
  let h = 0;
  let mi = 0;
  let sec = 0;
  let frac = 0;
  for (let i = 11; i < n - 6; i++) {
    if (i === 13 || i === 16 || i === 19) continue;
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    if (i < 13) h = h * 10 + c;
    else if (i < 16) mi = mi * 10 + c;
    else if (i < 19) sec = sec * 10 + c;
    else frac = frac * 10 + c;
  }
  if (h > 23 || mi > 59 || sec > 59) return null;
  return (days * 86400 + h * 3600 + mi * 60 + sec) * 1_000_000 + frac;
}

function parseIsoInstant(text: string): Micros | null {
  const m = ISO_RE.exec(text.trim());
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4] ?? 0);
  const mi = Number(m[5] ?? 0);
  const s = Number(m[6] ?? 0);
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  if (mo < 1 || mo > 12 || d < 1) return null;
  const dim = mo === 2 && isLeap(y) ? 29 : (DAYS_IN_MONTH[mo - 1] as number);
  if (d > dim || h > 23 || mi > 59 || s > 59 || y < 1) return null;
  let offsetUs = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    const os = Number(m[12] ?? 0);
    const ofr = m[13] ? Number(m[13].padEnd(6, '0')) : 0;
    if (oh > 23 || om > 59 || os > 59) return null;
    offsetUs = ((oh * 3600 + om * 60 + os) * 1_000_000 + ofr) * (m[9] === '-' ? -1 : 1);
  }
  const days = daysFromCivil(y, mo, d);
  return (days * 86400 + h * 3600 + mi * 60 + s) * 1_000_000 + frac - offsetUs;
}

function civilFromDays(z: number): [number, number, number] {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [m <= 2 ? y + 1 : y, m, d];
}

const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

function split(t: Micros): { date: string; h: number; mi: number; s: number; us: number } {
  const days = Math.floor(t / 86_400_000_000);
  let rest = t - days * 86_400_000_000;
  const h = Math.floor(rest / 3_600_000_000);
  rest -= h * 3_600_000_000;
  const mi = Math.floor(rest / 60_000_000);
  rest -= mi * 60_000_000;
  const s = Math.floor(rest / 1_000_000);
  const us = rest - s * 1_000_000;
  return { date: dateOfDay(days), h, mi, s, us };
}

/** The day `dateOfDay` formatted last: the instants of a history or a dump come in runs of one day. */
let lastDay = Number.NaN;
let lastDate = '';

/** `YYYY-MM-DD` of a day number (days since 1970-01-01). */
function dateOfDay(days: number): string {
  if (days !== lastDay) {
    const [y, m, d] = civilFromDays(days);
    lastDate = `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}`;
    lastDay = days;
  }
  return lastDate;
}

/** Canonical UTC form with six fractional digits: `2026-06-10T12:54:22.000000Z`. */
export function formatInstant(t: Micros): string {
  const { date, h, mi, s, us } = split(t);
  return `${date}T${p2(h)}:${p2(mi)}:${p2(s)}.${String(us).padStart(6, '0')}Z`;
}

/**
 * Flowkeeper's own history form (Python `str(datetime)` of an aware UTC datetime):
 * `2026-06-10 12:54:22+00:00`, with `.ffffff` only when microseconds are not zero.
 */
export function formatHistoryInstant(t: Micros): string {
  const { date, h, mi, s, us } = split(t);
  const frac = us === 0 ? '' : `.${String(us).padStart(6, '0')}`;
  return `${date} ${p2(h)}:${p2(mi)}:${p2(s)}${frac}+00:00`;
}

/** The UTC calendar date `YYYY-MM-DD` of an instant. */
export function formatDate(t: Micros): string {
  return split(t).date;
}

/** Seconds (float, as Flowkeeper stores durations) to microseconds, rounded like Python's timedelta. */
export function secondsToMicros(seconds: number): Micros {
  const us = seconds * 1_000_000;
  const r = Math.round(us);
  // Python rounds half to even
  return Math.abs(us - Math.trunc(us)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Microseconds to float seconds, like `timedelta.total_seconds()`. */
export function microsToSeconds(us: Micros): number {
  return us / 1_000_000;
}

/** Why Python refused a duration or a date sum: its exception class and message, and ours. */
export interface PyProblem {
  readonly pythonName: string;
  readonly pythonError: string;
  readonly message: string;
}

const MAX_TIMEDELTA_DAYS = 999_999_999;

/** C `round()`: halves away from zero (JS `Math.round` takes them up). */
const cRound = (v: number): number => (v < 0 ? -Math.round(-v) : Math.round(v));

/**
 * Python's `timedelta(seconds=x)` for a float `x`: whole seconds exactly, the fraction in
 * microseconds with Python's own steps and rounding (half to even). Beyond ±2^53 µs (285 years)
 * a JS number cannot hold every microsecond; such durations overflow any date sum in practice.
 */
export function secondsToTimedelta(seconds: number): { us: number; problem: PyProblem | null } {
  if (Number.isNaN(seconds)) {
    const pythonError = 'cannot convert float NaN to integer';
    return { us: 0, problem: { pythonName: 'ValueError', pythonError, message: 'not a number' } };
  }
  if (!Number.isFinite(seconds)) {
    const pythonError = 'cannot convert float infinity to integer';
    return { us: 0, problem: { pythonName: 'OverflowError', pythonError, message: 'infinite' } };
  }
  const whole = Math.trunc(seconds);
  let us = whole * 1_000_000;
  const fraction = seconds - whole;
  let leftover = 0;
  if (fraction !== 0) {
    const scaled = fraction * 1_000_000;
    const scaledWhole = Math.trunc(scaled);
    us += scaledWhole;
    leftover = scaled - scaledWhole;
  }
  if (leftover !== 0) {
    let r = cRound(leftover);
    if (Math.abs(r - leftover) === 0.5) {
      const odd = Math.abs(us) % 2 === 1 ? 1 : 0;
      r = 2 * cRound((leftover + odd) * 0.5) - odd;
    }
    us += r;
  }
  const days = Math.floor(us / 86_400_000_000);
  if (Math.abs(days) > MAX_TIMEDELTA_DAYS) {
    const pythonError = `days=${days}; must have magnitude <= ${MAX_TIMEDELTA_DAYS}`;
    const message = `${seconds} seconds is out of range`;
    return { us: 0, problem: { pythonName: 'OverflowError', pythonError, message } };
  }
  return { us: us === 0 ? 0 : us, problem: null };
}

/** A date sum, or why Python refused it. */
export interface Sum {
  readonly t: Micros;
  readonly problem: PyProblem | null;
}

/** Microseconds of 0001-01-01 00:00 and of 9999-12-31 23:59:59.999999 (Python's datetime range). */
export const MIN_INSTANT: Micros = daysFromCivil(1, 1, 1) * 86_400_000_000;
export const MAX_INSTANT: Micros = daysFromCivil(10000, 1, 1) * 86_400_000_000 - 1;

/**
 * `when + timedelta(seconds=x)` as Python computes it for a datetime written in `zone`: the sum
 * must stay within years 1-9999 on the wall clock of that zone, else `OverflowError`.
 */
export function addSecondsTo(t: Micros, zone: number | null, seconds: number): Sum {
  const d = secondsToTimedelta(seconds);
  if (d.problem !== null) return { t, problem: d.problem };
  const sum = t + d.us;
  const local = sum + (zone ?? 0);
  if (local < MIN_INSTANT || local > MAX_INSTANT) {
    const pythonError = 'date value out of range';
    const problem = { pythonName: 'OverflowError', pythonError, message: 'the date is out of range' };
    return { t, problem };
  }
  if (!Number.isSafeInteger(sum) && BigInt(sum) !== BigInt(t) + BigInt(d.us)) {
    const message = 'the date is beyond what fk holds to the microsecond (years 1684-2255)';
    return { t, problem: { pythonName: 'OverflowError', pythonError: message, message } };
  }
  return { t: sum, problem: null };
}

/** The calendar date of `t` on the wall clock of `zone` (Python `when.date()`). */
export function localDate(t: Micros, zone: number | null): string {
  return formatDate(t + (zone ?? 0));
}
