import type { Micros } from './clock';
import type { Backlog, Category, Interruption, Pomodoro, Tag, Timer, User, Workitem } from './model';
import type { ReplayMode, ReplayState } from './replay';
import { formatInstant } from './time';
import { FkError, hasLinePosition } from './errors';

/**
 * The canonical state dump (`fk state`, format `fk-oracle-state/1`): the raw fields Flowkeeper
 * keeps, set-valued fields sorted by code point, keys sorted, no whitespace.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const inst = (t: Micros | null): string | null => (t === null ? null : formatInstant(t));

/** Sort by Unicode code point (Python's str order), not JS's UTF-16 order. */
export function codePointCompare(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = (x.value as string).codePointAt(0) as number;
    const cy = (y.value as string).codePointAt(0) as number;
    if (cx !== cy) return cx - cy;
  }
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort(codePointCompare);

function interruption(i: Interruption): Json {
  return {
    reason: i.reason,
    duration: i.duration,
    void: i.isVoid,
    create_date: inst(i.createDate),
    last_modified_date: inst(i.lastModified),
  };
}

function pomodoro(p: Pomodoro): Json {
  return {
    name: p.name,
    type: p.type,
    state: p.state,
    is_planned: p.isPlanned,
    work_duration: p.workDuration,
    rest_duration: p.restDuration,
    date_work_started: inst(p.dateWorkStarted),
    date_rest_started: inst(p.dateRestStarted),
    date_completed: inst(p.dateCompleted),
    create_date: inst(p.createDate),
    last_modified_date: inst(p.lastModified),
    interruptions: p.interruptions.map(interruption),
  };
}

function workitem(w: Workitem): Json {
  return {
    uid: w.uid,
    name: w.name,
    state: w.state,
    create_date: inst(w.createDate),
    last_modified_date: inst(w.lastModified),
    date_work_started: inst(w.dateWorkStarted),
    date_work_ended: inst(w.dateWorkEnded),
    categories: sorted(w.categories),
    intervals: w.intervals.map((i) => ({
      started: inst(i.started),
      ended: inst(i.ended),
      work_duration: i.workDuration,
      rest_duration: i.restDuration,
    })),
    pomodoros: w.pomodoros.map(pomodoro),
  };
}

function backlog(b: Backlog): Json {
  return {
    uid: b.uid,
    name: b.name,
    create_date: inst(b.createDate),
    last_modified_date: inst(b.lastModified),
    date_work_started: inst(b.dateWorkStarted),
    workitems: b.workitems.values().map(workitem),
  };
}

function category(c: Category): Json {
  return {
    uid: c.uid,
    name: c.name,
    is_system: c.isSystem,
    create_date: inst(c.createDate),
    last_modified_date: inst(c.lastModified),
    uses: sorted(c.uses),
    children: c.children.values().map(category),
  };
}

function tag(t: Tag): Json {
  return {
    uid: t.uid,
    create_date: inst(t.createDate),
    last_modified_date: inst(t.lastModified),
    workitems: sorted(t.workitems),
  };
}

function timer(t: Timer): Json {
  const p = t.pomodoro;
  let ref: Json = null;
  if (p !== null) {
    const index = p.workitem.pomodoros.indexOf(p);
    ref = { workitem: p.workitem.uid, index: index < 0 ? null : index };
  }
  return {
    state: t.state,
    pomodoro: ref,
    planned_duration: t.plannedDuration,
    remaining_duration: t.remainingDuration,
    last_state_change: inst(t.lastStateChange),
    next_state_change: inst(t.nextStateChange),
    pomodoro_in_series: t.pomodoroInSeries,
    last_date: t.lastDate,
    create_date: inst(t.createDate),
    last_modified_date: inst(t.lastModified),
  };
}

function user(u: User): Json {
  return {
    identity: u.identity,
    name: u.name,
    is_system_user: u.isSystem,
    create_date: inst(u.createDate),
    last_modified_date: inst(u.lastModified),
    backlogs: u.backlogs.values().map(backlog),
    categories: category(u.rootCategory),
    tags: sorted(u.tags.keys()).map((k) => tag(u.tags.get(k) as Tag)),
    timer: timer(u.timer),
  };
}

function pythonParts(err: FkError): { exception: string; error: string } {
  const d = err.details ?? {};
  const exception =
    typeof d.pythonName === 'string' ? d.pythonName : 'pythonName' in err ? String((err as { pythonName: unknown }).pythonName) : 'Exception';
  const error = typeof d.pythonError === 'string' ? d.pythonError : err.message;
  return { exception, error };
}

/** The success object of `fk state`. */
export function canonicalState(state: ReplayState, mode: ReplayMode, now: Micros): Json {
  const out: { [k: string]: Json } = {
    format: 'fk-oracle-state/1',
    mode,
    now: formatInstant(now),
    last_seq: state.lastSeq,
    users: state.tenant.users.values().map(user),
  };
  if (mode === 'lenient') {
    out.ignored_errors = state.skipped.map((s) => ({ line: s.lineNumber, seq: s.seq, ...pythonParts(s.error) }));
  }
  return out;
}

/** The error object of `fk state` (exit 3). */
export function canonicalError(err: unknown): Json {
  if (err instanceof FkError) {
    const pos = hasLinePosition(err) ? { line: err.lineNumber, seq: err.seq } : { line: null, seq: null };
    return { ...pythonParts(err), ...pos };
  }
  return { error: String(err), exception: 'Exception', line: null, seq: null };
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o: { [k: string]: Json } = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k] as Json);
    return o;
  }
  return v;
}

/** Exactly Python's `json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(',', ':'))`. */
export function canonicalJson(v: Json): string {
  return JSON.stringify(sortKeys(v));
}
