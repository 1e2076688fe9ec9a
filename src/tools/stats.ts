import type { Micros } from '../core/clock';
import { InputError } from '../core/errors';
import type { Tenant, Workitem } from '../core/engine/model';
import { tagsOf } from '../core/engine/strategies/tags';
import { daysFromCivil, formatDate } from '../core/engine/time';
import type { Zone } from './timeZone';

/**
 * Productivity statistics of one user, computed from the final state (a replayed model): what
 * the state holds is what counts, so work on workitems that were later deleted is not counted
 * (Flowkeeper keeps no trace of them either).
 *
 * - a **pomodoro** counts when it is a normal pomodoro in state `finished`; its **focus time** is
 *   its work duration (a finished pomodoro rang at its planned time, so it worked all of it);
 * - a **tracker** (or counter) counts when `finished`; its **tracked time** is from its start to
 *   its completion;
 * - an **interruption** counts on the day it was recorded (void reasons written when a workitem
 *   was completed or deleted mid-pomodoro included);
 * - a **voided** pomodoro is a work interval that ended before its work duration did.
 *
 * Everything is attributed to the calendar day of its start (interruptions: of their creation),
 * in `timeZone` (daylight saving included), else in UTC shifted by `utcOffsetMinutes`. Weeks are
 * ISO 8601 weeks (`2026-W24`).
 */
export interface StatsOptions {
  /** Whose statistics (the user identity). */
  readonly user: string;
  /** First day counted, `YYYY-MM-DD`, inclusive. @default no lower bound */
  readonly from?: string;
  /** Last day counted, `YYYY-MM-DD`, inclusive. @default no upper bound */
  readonly to?: string;
  /** Minutes east of UTC that days are cut at (`120` for UTC+02:00). @default 0 */
  readonly utcOffsetMinutes?: number;
  /** The time zone days are cut in (`utcOffsetMinutes` is then ignored). @default none: the offset */
  readonly timeZone?: Zone;
}

/** The figures of one day, week, tag, category, or of everything. */
export interface StatsRow {
  /** `2026-06-15`, `2026-W25`, the tag, the category uid, or `total`. */
  readonly key: string;
  /** Human label: the same as `key`, except a category's name. */
  readonly label: string;
  readonly pomodoros: number;
  readonly focusSeconds: number;
  readonly trackers: number;
  readonly trackedSeconds: number;
  readonly interruptions: number;
  readonly voided: number;
}

/** The result of {@link computeStats}: the options it ran with, then the figures. */
export interface Stats {
  readonly user: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly utcOffsetMinutes: number;
  /** The IANA time zone days were cut in, or null for a fixed offset. */
  readonly timeZone: string | null;
  /** Everything in the range. */
  readonly total: StatsRow;
  /** Every day from the first to the last active one (or `from`..`to`), zeros included. */
  readonly days: readonly StatsRow[];
  /** Every ISO week the days cover. */
  readonly weeks: readonly StatsRow[];
  /** Tags with any activity, by focus time then name. */
  readonly tags: readonly StatsRow[];
  /** Categories with any activity, by focus time then name; deleted ones are labelled so. */
  readonly categories: readonly StatsRow[];
}

type Metric = 'pomodoros' | 'focusSeconds' | 'trackers' | 'trackedSeconds' | 'interruptions' | 'voided';
type Acc = Record<Metric, number>;
const METRICS: readonly Metric[] = [
  'pomodoros',
  'focusSeconds',
  'trackers',
  'trackedSeconds',
  'interruptions',
  'voided',
];
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

const zero = (): Acc => ({
  pomodoros: 0,
  focusSeconds: 0,
  trackers: 0,
  trackedSeconds: 0,
  interruptions: 0,
  voided: 0,
});
const row = (key: string, label: string, a: Acc): StatsRow => ({ key, label, ...a });

/** ISO 8601 week of a `YYYY-MM-DD` date: `2026-W01` (week-year, which can differ from the year). */
export function isoWeek(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const days = daysFromCivil(y, m, d);
  const weekday = (((days + 3) % 7) + 7) % 7; // 0 = Monday (1970-01-01 was a Thursday)
  const thursday = days - weekday + 3;
  const year = Number(formatDate(thursday * 86_400_000_000).slice(0, 4));
  const week = Math.floor((thursday - daysFromCivil(year, 1, 1)) / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function assertDate(name: string, v: string | undefined): void {
  if (
    v !== undefined &&
    (!DATE_RE.test(v) ||
      formatDate(daysFromCivil(...(v.split('-').map(Number) as [number, number, number])) * 86_400_000_000) !== v)
  ) {
    throw new InputError('FK_INPUT_INVALID', `option '${name}' must be a date YYYY-MM-DD, got '${v}'`);
  }
}

/**
 * Computes the statistics of `opts.user` in a replayed model. Throws `InputError` for a bad date
 * or offset and when the user does not exist.
 *
 * @example
 * const stats = computeStats(replay(lines, { now }).tenant, { user: 'alice@example.org', from: '2026-06-01' });
 */
export function computeStats(tenant: Tenant, opts: StatsOptions): Stats {
  assertDate('from', opts.from);
  assertDate('to', opts.to);
  const offset = opts.utcOffsetMinutes ?? 0;
  if (!Number.isInteger(offset) || Math.abs(offset) > 18 * 60) {
    throw new InputError('FK_INPUT_INVALID', `UTC offset must be whole minutes within ±18:00, got '${offset}'`);
  }
  const user = tenant.users.get(opts.user);
  if (user === undefined) throw new InputError('FK_INPUT_INVALID', `user '${opts.user}' not found in the history`);
  const zone = opts.timeZone;
  const dayOf = zone ? (t: Micros): string => zone.day(t) : (t: Micros): string => formatDate(t + offset * 60_000_000);
  const inRange = (day: string): boolean =>
    (opts.from === undefined || day >= opts.from) && (opts.to === undefined || day <= opts.to);
  const days = new Map<string, Acc>();
  const tags = new Map<string, Acc>();
  const categories = new Map<string, Acc>();
  const total = zero();

  const count = (w: Workitem, t: Micros, metric: Metric, amount: number): void => {
    const day = dayOf(t);
    if (!inRange(day)) return;
    const bump = (m: Map<string, Acc>, k: string): void => {
      let a = m.get(k);
      if (a === undefined) m.set(k, (a = zero()));
      a[metric] += amount;
    };
    bump(days, day);
    for (const tag of tagsOf(w.name)) bump(tags, tag);
    for (const c of w.categories) bump(categories, c);
    total[metric] += amount;
  };

  for (const w of user.workitems.values()) {
    for (const p of w.pomodoros) {
      for (const i of p.interruptions) count(w, i.createDate, 'interruptions', 1);
      if (p.state !== 'finished' || p.dateWorkStarted === null) continue;
      if (p.type === 'normal') {
        count(w, p.dateWorkStarted, 'pomodoros', 1);
        count(w, p.dateWorkStarted, 'focusSeconds', p.workDuration);
      } else {
        count(w, p.dateWorkStarted, 'trackers', 1);
        count(
          w,
          p.dateWorkStarted,
          'trackedSeconds',
          Math.max(0, ((p.dateCompleted ?? p.dateWorkStarted) - p.dateWorkStarted) / 1_000_000),
        );
      }
    }
    for (const iv of w.intervals) {
      if (iv.ended !== null && iv.workDuration > 0 && iv.ended - iv.started < iv.workDuration * 1_000_000)
        count(w, iv.started, 'voided', 1);
    }
  }

  const active = [...days.keys()].sort();
  const first = opts.from ?? active[0];
  const last = opts.to ?? active[active.length - 1];
  const dayRows: StatsRow[] = [];
  if (first !== undefined && last !== undefined && first <= last) {
    const [y, m, d] = first.split('-').map(Number) as [number, number, number];
    for (let n = daysFromCivil(y, m, d); ; n++) {
      const day = formatDate(n * 86_400_000_000);
      if (day > last) break;
      dayRows.push(row(day, day, days.get(day) ?? zero()));
    }
  }
  const weeks = new Map<string, Acc>();
  for (const r of dayRows) {
    const k = isoWeek(r.key);
    const a = weeks.get(k) ?? zero();
    for (const m of METRICS) a[m] += r[m];
    weeks.set(k, a);
  }
  const ranked = (rows: StatsRow[]): StatsRow[] =>
    rows.sort(
      (a, b) =>
        b.focusSeconds - a.focusSeconds ||
        b.pomodoros - a.pomodoros ||
        (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
    );
  return {
    user: opts.user,
    from: opts.from ?? null,
    to: opts.to ?? null,
    utcOffsetMinutes: offset,
    timeZone: zone?.name ?? null,
    total: row('total', 'total', total),
    days: dayRows,
    weeks: [...weeks].map(([k, a]) => row(k, k, a)),
    tags: ranked([...tags].map(([k, a]) => row(k, `#${k}`, a))),
    categories: ranked(
      [...categories].map(([k, a]) => {
        const c = user.categories.get(k);
        return row(k, c ? c.name : `${k} (deleted)`, a);
      }),
    ),
  };
}
