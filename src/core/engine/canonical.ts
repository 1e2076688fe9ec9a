import type { Micros } from '../clock';
import type { Backlog, Category, Interruption, Pomodoro, Tag, Timer, User, Workitem } from './model';
import type { ReplayMode, ReplayState } from './replay';
import { formatCanonicalInstant } from './pythonTime';
import { formatInstant } from './time';
import { pyNumberJson } from './strategies/pyNumbers';
import { DomainError, FkError, hasLinePosition } from '../errors';

/**
 * The canonical state dump (`fk state`, format `fk-oracle-state/1`): the raw fields Flowkeeper
 * keeps, set-valued fields sorted by code point, keys sorted, no whitespace.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** An instant as the reference dump prints it; outside years 1-9999 Python cannot print it either. */
function inst(t: Micros | null): string | null {
  if (t === null) return null;
  const s = formatCanonicalInstant(t);
  if (s === null) {
    const what = `the state holds an instant outside years 1-9999 (${formatInstant(t)}), which has no canonical form`;
    throw new DomainError('FK_ILLEGAL_STATE', what, {
      pythonName: 'OverflowError',
      details: { pythonError: 'date value out of range' },
    });
  }
  return s;
}

const RAW = '\u0001';
const RAW_RE = /"\\u0001([^"\\]*)\\u0001"/g;

/**
 * A duration as Python's `repr` prints it (JSON differs for integers from 1e21 and fractions
 * below 1e-4). Such a number travels as a marked string that `rawNumbers` unwraps. Infinite or
 * NaN durations (a StartTimer that failed half-way keeps them) have no JSON form: Flowkeeper's
 * own dump fails on them as well.
 */
function num(x: number | null): Json {
  if (x === null) return null;
  if (!Number.isFinite(x)) {
    throw new DomainError('FK_ILLEGAL_STATE', `the state holds a duration of ${x} seconds, which has no JSON form`, {
      pythonName: 'ValueError',
      details: { pythonError: 'Out of range float values are not JSON compliant' },
    });
  }
  if (Number.isSafeInteger(x)) return x; // its JSON is Python's digits (-0 prints as 0 in both)
  const py = pyNumberJson(x);
  return py === String(x) ? x : `${RAW}${py}${RAW}`;
}

/** Unwraps the numbers `num` had to carry as strings. */
function rawNumbers(json: string): string {
  return json.includes('\\u0001') ? json.replace(RAW_RE, '$1') : json;
}

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

const SURROGATE_RE = /[\uD800-\uDFFF]/;

/**
 * Sorted by code point. Without surrogates (characters beyond U+FFFF) that is the UTF-16 order
 * of the built-in sort, which is many times faster than `codePointCompare` on a tag's thousands
 * of workitem ids.
 */
const sorted = (xs: Iterable<string>): string[] => {
  const list = [...xs];
  if (list.length < 2) return list;
  return list.some((x) => SURROGATE_RE.test(x)) ? list.sort(codePointCompare) : list.sort();
};

function interruption(i: Interruption): Json {
  return {
    create_date: inst(i.createDate),
    duration: num(i.duration),
    last_modified_date: inst(i.lastModified),
    reason: i.reason,
    void: i.isVoid,
  };
}

function pomodoro(p: Pomodoro): Json {
  return {
    create_date: inst(p.createDate),
    date_completed: inst(p.dateCompleted),
    date_rest_started: inst(p.dateRestStarted),
    date_work_started: inst(p.dateWorkStarted),
    interruptions: p.interruptions.map(interruption),
    is_planned: p.isPlanned,
    last_modified_date: inst(p.lastModified),
    name: p.name,
    rest_duration: num(p.restDuration),
    state: p.state,
    type: p.type,
    work_duration: num(p.workDuration),
  };
}

function workitem(w: Workitem): Json {
  return {
    categories: sorted(w.categories),
    create_date: inst(w.createDate),
    date_work_ended: inst(w.dateWorkEnded),
    date_work_started: inst(w.dateWorkStarted),
    intervals: w.intervals.map((i) => ({
      ended: inst(i.ended),
      rest_duration: num(i.restDuration),
      started: inst(i.started),
      work_duration: num(i.workDuration),
    })),
    last_modified_date: inst(w.lastModified),
    name: w.name,
    pomodoros: w.pomodoros.map(pomodoro),
    state: w.state,
    uid: w.uid,
  };
}

function backlog(b: Backlog): Json {
  return {
    create_date: inst(b.createDate),
    date_work_started: inst(b.dateWorkStarted),
    last_modified_date: inst(b.lastModified),
    name: b.name,
    uid: b.uid,
    workitems: b.workitems.values().map(workitem),
  };
}

function category(c: Category): Json {
  return {
    children: c.children.values().map(category),
    create_date: inst(c.createDate),
    is_system: c.isSystem,
    last_modified_date: inst(c.lastModified),
    name: c.name,
    uid: c.uid,
    uses: sorted(c.uses),
  };
}

function tag(t: Tag): Json {
  return {
    create_date: inst(t.createDate),
    last_modified_date: inst(t.lastModified),
    uid: t.uid,
    workitems: sorted(t.workitems),
  };
}

function timer(t: Timer): Json {
  const p = t.pomodoro;
  let ref: Json = null;
  if (p !== null) {
    const index = p.workitem.pomodoros.indexOf(p);
    ref = { index: index < 0 ? null : index, workitem: p.workitem.uid };
  }
  return {
    create_date: inst(t.createDate),
    last_date: t.lastDate,
    last_modified_date: inst(t.lastModified),
    last_state_change: inst(t.lastStateChange),
    next_state_change: inst(t.nextStateChange),
    planned_duration: num(t.plannedDuration),
    pomodoro: ref,
    pomodoro_in_series: t.pomodoroInSeries,
    remaining_duration: num(t.remainingDuration),
    state: t.state,
  };
}

function user(u: User, backlogs: (u: User) => Json[] = (x) => x.backlogs.values().map(backlog)): Json {
  return {
    backlogs: backlogs(u),
    categories: category(u.rootCategory),
    create_date: inst(u.createDate),
    identity: u.identity,
    is_system_user: u.isSystem,
    last_modified_date: inst(u.lastModified),
    name: u.name,
    tags: sorted(u.tags.keys()).map((k) => tag(u.tags.get(k) as Tag)),
    timer: timer(u.timer),
  };
}

function pythonParts(err: FkError): { exception: string; error: string } {
  const d = err.details ?? {};
  const exception =
    typeof d.pythonName === 'string'
      ? d.pythonName
      : 'pythonName' in err
        ? String((err as { pythonName: unknown }).pythonName)
        : 'Exception';
  const error = typeof d.pythonError === 'string' ? d.pythonError : err.message;
  return { exception, error };
}

/** The success object of `fk state`. */
export function canonicalState(state: ReplayState, mode: ReplayMode, now: Micros): Json {
  return top(
    state,
    mode,
    now,
    state.tenant.users.values().map((u) => user(u)),
  );
}

function top(state: ReplayState, mode: ReplayMode, now: Micros, users: Json[]): Json {
  const ignored: { [k: string]: Json } =
    mode === 'lenient'
      ? {
          ignored_errors: state.skipped.map((s) => {
            const { error, exception } = pythonParts(s.error);
            return { error, exception, line: s.lineNumber, seq: s.seq };
          }),
        }
      : {};
  return {
    format: 'fk-oracle-state/1',
    ...ignored,
    last_seq: state.lastSeq,
    mode,
    now: formatInstant(now),
    users,
  };
}

/** Splits the JSON of an object whose list-valued key is empty into the text before and after it. */
function around(json: string, key: string): [string, string] {
  const marker = `"${key}":[]`;
  const at = json.indexOf(marker);
  if (at < 0) throw new Error(`canonical writer: key '${key}' not found`);
  return [json.slice(0, at + marker.length - 1), json.slice(at + marker.length - 1)];
}

/**
 * Writes exactly `canonicalJson(canonicalState(…))` in pieces, one backlog at a time, so that the
 * 20+ MB dump of a 100k-line history never exists as one object tree or one string. The same
 * builders produce each piece, so the two cannot drift apart (a test compares them).
 */
export function writeCanonicalState(
  state: ReplayState,
  mode: ReplayMode,
  now: Micros,
  write: (chunk: string) => void,
): void {
  const [head, tail] = around(rawNumbers(JSON.stringify(top(state, mode, now, []))), 'users');
  write(head);
  state.tenant.users.values().forEach((u, i) => {
    const [userHead, userTail] = around(rawNumbers(JSON.stringify(user(u, () => []))), 'backlogs');
    write(i === 0 ? userHead : `,${userHead}`);
    u.backlogs.values().forEach((b, j) => {
      const json = rawNumbers(JSON.stringify(backlog(b)));
      write(j === 0 ? json : `,${json}`);
    });
    write(userTail);
  });
  write(tail);
}

/** The error object of `fk state` (exit 3). */
export function canonicalError(err: unknown): Json {
  if (err instanceof FkError) {
    const { error, exception } = pythonParts(err);
    return hasLinePosition(err)
      ? { error, exception, line: err.lineNumber, seq: err.seq }
      : { error, exception, line: null, seq: null };
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

/**
 * Exactly Python's `json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(',', ':'))`.
 * The builders above already emit keys in sorted order (checked by a test), so the 20 MB dump of
 * a 100k-line history is not copied once more just to sort it.
 */
export function canonicalJson(v: Json): string {
  return rawNumbers(JSON.stringify(v));
}

/** Deep copy with sorted keys: the reference the tests compare `canonicalJson` with. */
export function sortKeysDeep(v: Json): Json {
  return sortKeys(v);
}
