import type { Micros } from '../clock';
import type { Pomodoro, PomodoroType, TimerState, User } from '../engine/model';
import type { StrategyRecord } from '../engine/records';
import { formatInstant, secondsToMicros } from '../engine/time';

/**
 * Notification events the daemon forwards (issue 6). PURE: derived from the model before and
 * after one step (a record applied, or the timer sealed at a planned instant). They are never
 * written to the history (design point 4): the history holds only user actions, and every client
 * computes the same events from it, which is why their ids are stable across daemons and restarts.
 */
export const EVENT_TYPES = [
  'work.started',
  'work.finished',
  'longbreak.started',
  'rest.finished',
  'pomodoro.voided',
  'interruption.added',
  'workitem.completed',
  'daemon.online',
  'daemon.offline',
  'daemon.conflict',
] as const;

export type FkEventType = (typeof EVENT_TYPES)[number];

const TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

export function isEventType(name: string): name is FkEventType {
  return TYPE_SET.has(name);
}

/** One notification, as forwarded (JSON). Optional fields appear only where they mean something. */
export interface FkEvent {
  /**
   * Stable id: `<user>/<workitem uid>/<pomodoro name>/<type>@<instant>` (daemon events:
   * `<user>/daemon/<daemon id>/<type>@<instant>`). Two daemons on one history derive the same id
   * for the same happening, so forwarders deduplicate on it.
   */
  readonly id: string;
  readonly type: FkEventType;
  readonly user: string;
  /** When it happened, ISO UTC: a transition's planned instant, or the record's `when`. */
  readonly at: string;
  readonly workitem: { readonly uid: string; readonly name: string } | null;
  /** Flowkeeper's pomodoro name (`Pomodoro 2`): pomodoro uids are not part of the history. */
  readonly pomodoro: string | null;
  readonly pomodoroType?: PomodoroType;
  /** Planned work and rest of the pomodoro, in seconds (rest 0 = a long break). */
  readonly workSeconds?: number;
  readonly restSeconds?: number;
  /** When the phase that this event ends started (work for `work.finished`, rest for `rest.finished`). */
  readonly startedAt?: string;
  /** When the phase this event starts ends by itself; null when only StopTimer ends it. */
  readonly endsAt?: string | null;
  /** How long the phase that ended lasted (voided or completed), in seconds. */
  readonly elapsedSeconds?: number;
  readonly longBreak?: boolean;
  /** `pomodoro.voided`: the phase it was in. */
  readonly phase?: 'work' | 'rest';
  /** `interruption.added`: the reason and duration (seconds) the user gave. */
  readonly reason?: string | null;
  readonly durationSeconds?: number | null;
  /** `workitem.completed`: how it was sealed. */
  readonly state?: 'finished' | 'canceled';
  /** The history record that caused it, when one did (timer transitions have none). */
  readonly seq?: number;
  /** Set when it happened while no daemon was running (sent only with `late: 'send'`). */
  readonly late?: true;
  /** Daemon events: which daemon, and what about. */
  readonly daemon?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
}

/** An event plus what the runtime needs to schedule it. */
export interface DerivedEvent {
  readonly event: FkEvent;
  /** `event.at` in microseconds. */
  readonly at: Micros;
  /** `timer`: a transition the timer rings by itself (held until its instant, subject to `late`). */
  readonly source: 'timer' | 'record';
}

/** What the step's diff needs from the model before the step. Take one after every step. */
export interface TimerSnapshot {
  /** The live pomodoro object of the timer; its fields are read again after the step. */
  readonly pomodoro: Pomodoro | null;
  readonly state: TimerState;
  readonly dateRestStarted: Micros | null;
}

export const IDLE_SNAPSHOT: TimerSnapshot = { pomodoro: null, state: 'idle', dateRestStarted: null };

export function snapshotTimer(user: User | undefined): TimerSnapshot {
  if (user === undefined) return IDLE_SNAPSHOT;
  const p = user.timer.pomodoro;
  return { pomodoro: p, state: user.timer.state, dateRestStarted: p?.dateRestStarted ?? null };
}

const secs = (us: Micros): number => us / 1_000_000;

export function eventId(user: string, workitemUid: string, pomodoro: string | null, type: FkEventType, at: Micros): string {
  return `${user}/${workitemUid}/${pomodoro === null ? '' : `${pomodoro}/`}${type}@${formatInstant(at)}`;
}

function pomodoroEvent(
  user: string,
  p: Pomodoro,
  type: FkEventType,
  at: Micros,
  source: DerivedEvent['source'],
  fields: Partial<FkEvent>,
): DerivedEvent {
  const event: FkEvent = {
    id: eventId(user, p.workitem.uid, p.name, type, at),
    type,
    user,
    at: formatInstant(at),
    workitem: { uid: p.workitem.uid, name: p.workitem.name },
    pomodoro: p.name,
    pomodoroType: p.type,
    ...(p.type === 'normal' ? { workSeconds: p.workDuration, restSeconds: p.restDuration } : {}),
    ...fields,
  };
  return { event, at, source };
}

/**
 * The transitions the pomodoro that ran before the step went through during it, in order:
 * work → rest (`work.finished`, or `longbreak.started` for a rest of 0), rest → finished
 * (`rest.finished`; a tracker's stop is its `work.finished`), or back to new (`pomodoro.voided`,
 * design point 8). A late seal may ring twice in one step (work → rest → finished).
 */
function transitions(user: string, before: TimerSnapshot, record: StrategyRecord | null): DerivedEvent[] {
  const p = before.pomodoro;
  if (p === null || before.state === 'idle') return [];
  const out: DerivedEvent[] = [];
  const workStart = p.dateWorkStarted;
  if (before.state === 'work' && p.type === 'normal' && p.dateRestStarted !== null && p.dateRestStarted !== before.dateRestStarted) {
    const at = p.dateRestStarted;
    const started = workStart === null ? {} : { startedAt: formatInstant(workStart), elapsedSeconds: secs(at - workStart) };
    if (p.restDuration === 0) out.push(pomodoroEvent(user, p, 'longbreak.started', at, 'timer', { ...started, endsAt: null, longBreak: true }));
    else {
      const endsAt = formatInstant(at + secondsToMicros(p.restDuration));
      out.push(pomodoroEvent(user, p, 'work.finished', at, 'timer', { ...started, endsAt, longBreak: false }));
    }
  }
  if (p.state === 'finished' && p.dateCompleted !== null) {
    const at = p.dateCompleted;
    // Rings by itself only at the end of a short rest; a long break or a tracker ends by StopTimer.
    const source = p.type === 'normal' && p.restDuration > 0 ? 'timer' : 'record';
    const seq = source === 'record' && record !== null ? { seq: record.seq } : {};
    if (p.type !== 'normal') {
      const started = workStart === null ? {} : { startedAt: formatInstant(workStart), elapsedSeconds: secs(at - workStart) };
      out.push(pomodoroEvent(user, p, 'work.finished', at, source, { ...started, endsAt: null, ...seq }));
    } else {
      const restStart = p.dateRestStarted;
      const started = restStart === null ? {} : { startedAt: formatInstant(restStart), elapsedSeconds: secs(at - restStart) };
      out.push(pomodoroEvent(user, p, 'rest.finished', at, source, { ...started, longBreak: p.restDuration === 0, ...seq }));
    }
  } else if (p.state === 'new' && record !== null) {
    const iv = p.workitem.intervals[p.workitem.intervals.length - 1];
    const at = iv?.ended ?? record.when;
    const phase = p.dateRestStarted !== null ? 'rest' : 'work';
    out.push(
      pomodoroEvent(user, p, 'pomodoro.voided', at, 'record', {
        phase,
        ...(workStart === null ? {} : { startedAt: formatInstant(workStart), elapsedSeconds: secs(at - workStart) }),
        seq: record.seq,
      }),
    );
  }
  return out;
}

/** Events a user action causes by itself (besides the transitions it triggers). */
function actions(u: User, record: StrategyRecord): DerivedEvent[] {
  const user = u.identity;
  switch (record.name) {
    case 'StartTimer':
    case 'StartWork': {
      const p = u.timer.pomodoro;
      if (p === null || u.timer.state !== 'work' || p.dateWorkStarted !== record.when) return [];
      const endsAt = u.timer.nextStateChange === null ? null : formatInstant(u.timer.nextStateChange);
      return [pomodoroEvent(user, p, 'work.started', record.when, 'record', { endsAt, seq: record.seq })];
    }
    case 'AddInterruption': {
      const p = u.workitems.get(record.params[0] ?? '')?.runningPomodoro();
      const i = p?.interruptions[p.interruptions.length - 1];
      if (p === undefined || i === undefined || i.createDate !== record.when) return [];
      return [pomodoroEvent(user, p, 'interruption.added', record.when, 'record', { reason: i.reason, durationSeconds: i.duration, seq: record.seq })];
    }
    case 'CompleteWorkitem': {
      const w = u.workitems.get(record.params[0] ?? '');
      if (w === undefined || (w.state !== 'finished' && w.state !== 'canceled') || w.dateWorkEnded !== record.when) return [];
      const event: FkEvent = {
        id: eventId(user, w.uid, null, 'workitem.completed', record.when),
        type: 'workitem.completed',
        user,
        at: formatInstant(record.when),
        workitem: { uid: w.uid, name: w.name },
        pomodoro: null,
        state: w.state,
        seq: record.seq,
      };
      return [{ event, at: record.when, source: 'record' }];
    }
    default:
      return [];
  }
}

/**
 * The events of one step for `user` (the model AFTER the step), given the snapshot taken before
 * it. `record` is the record applied, or null when the timer was sealed (a transition at its
 * planned instant). Records of other users cause nothing here. Ordered by instant.
 */
export function deriveEvents(user: User | undefined, before: TimerSnapshot, record: StrategyRecord | null): DerivedEvent[] {
  if (user === undefined) return [];
  if (record !== null && record.user !== user.identity) return [];
  const out = transitions(user.identity, before, record);
  if (record !== null) out.push(...actions(user, record));
  return out.sort((a, b) => a.at - b.at);
}

/** A daemon's own event (online, offline = read-only, conflict = history unusable). */
export function daemonEvent(
  type: 'daemon.online' | 'daemon.offline' | 'daemon.conflict',
  user: string,
  daemon: string,
  at: Micros,
  detail: Readonly<Record<string, string | number | boolean | null>> = {},
): DerivedEvent {
  const event: FkEvent = {
    id: `${user}/daemon/${daemon}/${type}@${formatInstant(at)}`,
    type,
    user,
    at: formatInstant(at),
    workitem: null,
    pomodoro: null,
    daemon,
    detail,
  };
  return { event, at, source: 'record' };
}

/**
 * Whether a filter lets an event type through: exact names, `prefix.*` or `*`.
 * An empty filter lets nothing through.
 */
export function matchesFilter(filter: readonly string[], type: FkEventType): boolean {
  return filter.some((f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))));
}
