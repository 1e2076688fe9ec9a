import type { Micros } from '../clock';

/**
 * Instants are integer microseconds since the Unix epoch: Flowkeeper (Python `datetime`) keeps
 * microseconds, which a JS `Date` would lose.
 */

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?)?(?:(Z)|([+-])(\d{2}):?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
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

/** Fast path for what Flowkeeper writes: `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`. */
function parseFlowkeeperInstant(s: string): Micros | null {
  const n = s.length;
  if ((n !== 25 && n !== 32) || s.charCodeAt(10) !== 32 || !s.endsWith('+00:00')) return null;
  const dateKey = s.slice(0, 10);
  let days = dayCache.get(dateKey);
  if (days === undefined) {
    const full = parseIsoInstant(`${dateKey}T00:00:00+00:00`);
    if (full === null) return null;
    days = full / 86_400_000_000;
    if (dayCache.size > 10_000) dayCache.clear();
    dayCache.set(dateKey, days);
  }
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (h < 0 || mi < 0 || sec < 0 || h > 23 || mi > 59 || sec > 59) return null;
  let frac = 0;
  if (n === 32) {
    if (s.charCodeAt(19) !== 46) return null;
    frac = digits(s, 20, 6);
    if (frac < 0) return null;
  }
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
  return ((days * 86400 + h * 3600 + mi * 60 + s) * 1_000_000 + frac) - offsetUs;
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
  const [y, m, d] = civilFromDays(days);
  return { date: `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}`, h, mi, s, us };
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

/**
 * A timestamp as Flowkeeper's history holds it: the instant, and the zone it was written in.
 * `zone` is the UTC offset in microseconds, or `null` for a timestamp written without one (Python
 * calls that a naive datetime; comparing it with an aware one raises `TypeError`).
 */
export interface HistoryTimestamp {
  readonly t: Micros;
  readonly zone: number | null;
}

const ASCII_0 = 48;

/** Reads `count` ASCII digits at `i` of `s` (past the end reads as NUL, like C); -1 if any is not a digit. */
function cDigits(s: string, i: number, count: number): number {
  let v = 0;
  for (let k = i; k < i + count; k++) {
    const c = k < s.length ? s.charCodeAt(k) - ASCII_0 : -ASCII_0;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const isDigitAt = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;

/**
 * `HH[:MM[:SS[.ffffff]]]` between `from` and `end`, the way CPython 3.11's C parser reads it
 * (`parse_hh_mm_ss_ff`): the separator style is set by the first one, extra fraction digits are
 * skipped, and the result says whether the text ended exactly at `end` (0) or not (1).
 */
function readClock(s: string, from: number, end: number): { rv: number; parts: number[] } {
  const parts = [0, 0, 0, 0];
  let p = from;
  let colons = true;
  let fraction = false;
  for (let i = 0; i < 3; i++) {
    const v = cDigits(s, p, 2);
    if (v < 0) return { rv: -3, parts };
    parts[i] = v;
    p += 2;
    const c = p < s.length ? s.charCodeAt(p) : 0;
    p++;
    if (i === 0) colons = c === 58;
    if (p >= end) return { rv: c !== 0 ? 1 : 0, parts };
    if (colons && c === 58) continue;
    if (c === 46 || c === 44) {
      fraction = true;
      break;
    }
    if (!colons) p--;
    else return { rv: -4, parts };
  }
  // CPython reads a fraction here even when no '.' came (a quirk of the loop above ending)
  void fraction;
  const take = Math.min(end - p, 6);
  const us = take > 0 ? cDigits(s, p, take) : 0;
  if (us < 0) return { rv: -3, parts };
  parts[3] = take > 0 && take < 6 ? us * 10 ** (6 - take) : us;
  p += Math.max(take, 0);
  while (isDigitAt(s, p)) p++;
  return { rv: p < s.length ? 1 : 0, parts };
}

function separatorAt(s: string): number {
  if (s.length === 7) return 7;
  if (s.charCodeAt(4) === 45) {
    if (s.charCodeAt(5) !== 87) return 10;
    if (s.length > 8 && s.charCodeAt(8) === 45) return s.length > 10 && isDigitAt(s, 10) ? 8 : 10;
    return 8;
  }
  return 8; // the ISO week forms (`YYYYWww…`) never pass the history's timestamp pattern
}

/**
 * Python 3.11's `datetime.fromisoformat` (the C implementation Flowkeeper runs on), for the
 * timestamps of a history line. Returns null where Python raises `ValueError`.
 *
 * Python accepts more than Flowkeeper writes: `YYYYMMDD`, a date alone, any one character as the
 * date/time separator, `HHMM`, fractions of 1-6 digits (more are cut off), one stray character
 * before an offset, offsets `±HH[:MM[:SS[.ffffff]]]` under 24 h, and no offset at all (naive).
 */
export function parseHistoryTimestamp(s: string): HistoryTimestamp | typeof INEXACT | null {
  // what Flowkeeper writes (`2026-06-10 12:54:22[.123456]+00:00`) reads the same either way
  const fast = parseFlowkeeperInstant(s);
  if (fast !== null && Number.isSafeInteger(fast)) return { t: fast, zone: 0 };
  const n = s.length;
  if (n < 7) return null;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 127) return null;
  const sep = separatorAt(s);
  const year = cDigits(s, 0, 4);
  if (year < 0) return null;
  const dash = s.charCodeAt(4) === 45;
  let p = dash ? 5 : 4;
  const month = cDigits(s, p, 2);
  if (month < 0) return null;
  p += 2;
  if (dash && (p < n ? s.charCodeAt(p++) : 0) !== 45) return null;
  const day = cDigits(s, p, 2);
  if (day < 0) return null;
  let clock = [0, 0, 0, 0];
  let zone: number | null = null;
  if (n > sep) {
    const from = sep + 1;
    let tz = from;
    do {
      const c = tz < n ? s.charCodeAt(tz) : 0;
      if (c === 90 || c === 43 || c === 45) break;
    } while (++tz < n);
    const time = readClock(s, from, tz);
    if (time.rv < 0) return null;
    clock = time.parts;
    if (tz >= n) {
      if (time.rv === 1) return null;
    } else if (s.charCodeAt(tz) === 90) {
      if (tz + 1 !== n) return null;
      zone = 0;
    } else {
      const off = readClock(s, tz + 1, n);
      if (off.rv !== 0) return null;
      const [oh, om, os, ous] = off.parts as [number, number, number, number];
      const sign = s.charCodeAt(tz) === 45 ? -1 : 1;
      const seconds = oh * 3600 + om * 60 + os;
      zone = seconds === 0 ? 0 : sign * (seconds * 1_000_000 + ous);
      if (Math.abs(zone) >= 86_400_000_000) return null;
    }
  }
  const [h, mi, sec, us] = clock as [number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1) return null;
  const dim = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day > dim || h > 23 || mi > 59 || sec > 59) return null;
  const seconds = daysFromCivil(year, month, day) * 86400 + h * 3600 + mi * 60 + sec;
  const t = seconds * 1_000_000 + us - (zone ?? 0);
  if (Number.isSafeInteger(t)) return { t, zone };
  const exact = BigInt(seconds) * 1_000_000n + BigInt(us - (zone ?? 0));
  const near = Number(exact);
  return BigInt(near) === exact ? { t: near, zone } : INEXACT;
}

/**
 * A timestamp Python reads but a JS number cannot hold to the microsecond: beyond ±2^53 µs of
 * 1970 (before 1684-09 or after 2255-06) only some microsecond counts are representable. fk
 * refuses such a line rather than move its instant (docs/design.md, "Limits").
 */
export const INEXACT = 'inexact' as const;

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

/**
 * The canonical dump's instant: Python's `strftime('%Y-%m-%dT%H:%M:%S.%fZ')` of the UTC time,
 * whose `%Y` (glibc) does not pad years below 1000. Null outside years 1-9999, where Python
 * cannot convert the instant to UTC at all.
 */
export function formatCanonicalInstant(t: Micros): string | null {
  if (t < MIN_INSTANT || t > MAX_INSTANT) return null;
  const { date, h, mi, s, us } = split(t);
  return `${date.replace(/^0+(?=\d)/, '')}T${p2(h)}:${p2(mi)}:${p2(s)}.${String(us).padStart(6, '0')}Z`;
}
