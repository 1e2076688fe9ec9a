import type { Micros } from '../clock';
import { daysFromCivil, daysInMonth, formatInstant, MAX_INSTANT, MIN_INSTANT, parseFlowkeeperInstant } from './time';

/*
 * Python's own arithmetic on the dates and durations of a history, as Flowkeeper's core runs it
 * (CPython 3.11): reading a timestamp (`datetime.fromisoformat`), a duration
 * (`timedelta(seconds=x)`), adding one to the other, and printing an instant.
 */

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
  if (day > daysInMonth(year, month) || h > 23 || mi > 59 || sec > 59) return null;
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

/**
 * The instant `formatCanonicalInstant` formatted last: a dump repeats one (create and modify
 * dates, the pomodoros of one workitem).
 */
let lastCanonical = Number.NaN;
let lastCanonicalText = '';

/**
 * The canonical dump's instant: Python's `strftime('%Y-%m-%dT%H:%M:%S.%fZ')` of the UTC time,
 * whose `%Y` (glibc) does not pad years below 1000. Null outside years 1-9999, where Python
 * cannot convert the instant to UTC at all.
 */
export function formatCanonicalInstant(t: Micros): string | null {
  if (t < MIN_INSTANT || t > MAX_INSTANT) return null;
  if (t !== lastCanonical) {
    const s = formatInstant(t);
    lastCanonicalText = s.charCodeAt(0) === ASCII_0 ? s.replace(/^0+(?=\d)/, '') : s;
    lastCanonical = t;
  }
  return lastCanonicalText;
}
