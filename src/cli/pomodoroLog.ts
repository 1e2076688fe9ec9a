import type { Micros } from '../core/clock';
import type { Pomodoro, User, Workitem } from '../core/engine/model';
import { formatInstant } from '../core/engine/time';
import type { Zone } from '../tools/timeZone';

/**
 * What was worked, when: one row per time a pomodoro (or tracker) ran, from the user's model as
 * it is at `now` (a `client.view`, so a pomodoro whose time is up shows as done). Flowkeeper keeps
 * each start as an interval of its workitem; a voided pomodoro goes back to "planned" and may run
 * again, so its earlier runs are found only there.
 */
export type Outcome = 'completed' | 'voided' | 'running';

export interface LogRow {
  readonly day: string;
  /** Wall-clock `HH:MM` in the zone. */
  readonly start: string;
  readonly end: string | null;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly workitem: { readonly uid: string; readonly name: string };
  readonly backlog: string;
  /** `Pomodoro 2`; null for an earlier, voided run of a pomodoro that ran again. */
  readonly pomodoro: string | null;
  readonly kind: 'pomodoro' | 'long break' | 'tracker';
  readonly outcome: Outcome;
  /** Planned work (seconds; 0 for a tracker). */
  readonly workSeconds: number;
  /** Work actually done: to its end, or to the void, or so far. */
  readonly workedSeconds: number;
  readonly interruptions: number;
}

/** The marks of `fk workitem list` and `fk today`, and what they mean. */
export const MARKS = { planned: 'o', voided: '~', running: '*', completed: 'x' } as const;
export const LEGEND =
  `marks: ${MARKS.planned} planned  ${MARKS.running} running  ${MARKS.completed} completed  ` +
  `${MARKS.voided} voided (planned again)`;

/** A pomodoro's mark: a voided one is "new" again but has run before. */
export function markOf(p: Pomodoro): string {
  if (p.state === 'finished') return MARKS.completed;
  if (p.state === 'work' || p.state === 'rest') return MARKS.running;
  return p.dateWorkStarted !== null ? MARKS.voided : MARKS.planned;
}

function rowsOf(w: Workitem, now: Micros, zone: Zone, keep: (started: Micros) => boolean): LogRow[] {
  const byStart = new Map<number, Pomodoro>();
  for (const p of w.pomodoros) if (p.dateWorkStarted !== null) byStart.set(p.dateWorkStarted, p);
  const interruptions = w.pomodoros.flatMap((p) => p.interruptions.map((i) => i.createDate));
  return w.intervals.filter((iv) => keep(iv.started)).map((iv): LogRow => {
    const p = byStart.get(iv.started);
    const tracker = p?.type === 'tracker';
    let outcome: Outcome;
    let end: Micros | null;
    if (p === undefined) {
      outcome = 'voided';
      end = iv.ended;
    } else if (p.state === 'finished') {
      outcome = 'completed';
      end = p.dateCompleted;
    } else if (p.state === 'work' || p.state === 'rest') {
      outcome = 'running';
      end = null;
    } else {
      outcome = 'voided';
      end = iv.ended;
    }
    const workEnd = tracker ? (end ?? now) : Math.min(end ?? now, iv.started + iv.workDuration * 1_000_000);
    const upTo = end ?? now;
    return {
      day: zone.day(iv.started),
      start: zone.time(iv.started),
      end: end === null ? null : zone.time(end),
      startedAt: formatInstant(iv.started),
      endedAt: end === null ? null : formatInstant(end),
      workitem: { uid: w.uid, name: w.name },
      backlog: w.backlog.name,
      pomodoro: p?.name ?? null,
      kind: tracker ? 'tracker' : iv.restDuration === 0 ? 'long break' : 'pomodoro',
      outcome,
      workSeconds: tracker ? 0 : iv.workDuration,
      workedSeconds: Math.max(0, Math.round((workEnd - iv.started) / 1_000_000)),
      interruptions: interruptions.filter((t) => t >= iv.started && t <= upTo).length,
    };
  });
}

/** Every run that started at or after `since` (and before `until`), oldest first. */
export function pomodoroLog(user: User, opts: { since: Micros; until?: Micros; now: Micros; zone: Zone }): LogRow[] {
  const keep = (t: Micros): boolean => t >= opts.since && (opts.until === undefined || t < opts.until);
  const rows = [...user.workitems.values()].flatMap((w) => rowsOf(w, opts.now, opts.zone, keep));
  return rows.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
}

/** `1:05` (minutes and seconds) or `1:02:05`. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** The log as an aligned table (one line per run). */
export function logTable(rows: readonly LogRow[]): string[] {
  const when = (r: LogRow): string => `${r.day} ${r.start}-${r.end ?? '…'}`;
  const what = (r: LogRow): string => (r.outcome === 'voided' ? `voided after ${clock(r.workedSeconds)}` : r.outcome);
  const w1 = Math.max(4, ...rows.map((r) => when(r).length));
  const w2 = Math.max(7, ...rows.map((r) => what(r).length));
  const w3 = Math.max(8, ...rows.map((r) => (r.pomodoro ?? r.kind).length));
  const head = `${'when'.padEnd(w1)}  ${'outcome'.padEnd(w2)}  ${'pomodoro'.padEnd(w3)}  int  workitem`;
  return [
    head,
    ...rows.map((r) => {
      const name = r.pomodoro === null ? r.kind : r.kind === 'pomodoro' ? r.pomodoro : `${r.pomodoro} (${r.kind})`;
      const int = String(r.interruptions).padStart(3);
      return `${when(r).padEnd(w1)}  ${what(r).padEnd(w2)}  ${name.padEnd(w3)}  ${int}  ${r.workitem.name}`;
    }),
  ];
}

/** Parses `--since`: `today`, `yesterday`, `7d`, `12h`, `90m`, a date `YYYY-MM-DD` or an ISO instant. */
export function parseSince(text: string, now: Micros, zone: Zone): Micros | null {
  const t = text.trim().toLowerCase();
  if (t === 'today') return zone.startOfDay(zone.day(now));
  if (t === 'yesterday') return zone.startOfDay(zone.day(zone.startOfDay(zone.day(now)) - 1));
  const rel = /^(\d+)\s*(d|h|m)$/.exec(t);
  if (rel) {
    const n = Number(rel[1]);
    if (rel[2] === 'd') {
      // whole days back, from the start of today on the wall clock
      let day = zone.startOfDay(zone.day(now));
      for (let i = 0; i < n; i++) day = zone.startOfDay(zone.day(day - 1));
      return day;
    }
    return now - n * (rel[2] === 'h' ? 3600 : 60) * 1_000_000;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const start = zone.startOfDay(t);
    return zone.day(start) === t ? start : null;
  }
  const ms = Date.parse(text);
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/i.test(text) && /(z|[+-]\d{2}:?\d{2})$/i.test(text);
  return Number.isNaN(ms) || !iso ? null : ms * 1000;
}
