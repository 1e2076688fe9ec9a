import type { Micros } from '../clock';
import type { PomodoroType } from '../engine/model';
import { formatInstant } from '../engine/time';

/**
 * Notification events the daemon forwards (issue 6), derived from the model (notifications.ts),
 * and the daemon's own events. PURE. They are never
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
   * Stable id: `<user>/<workitem uid>/<pomodoro name>/<type>@<instant>`, followed by `#<seq>` when
   * a record caused it (daemon events: `<user>/daemon/<daemon id>/<type>@<instant>`). Two daemons
   * on one history derive the same id for the same happening, so forwarders deduplicate on it;
   * two happenings never share one (records may share an instant: see `eventId`).
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
  /**
   * `pomodoro.voided` only: ids of transitions sent earlier that the history now shows never
   * happened (the void was recorded before them but reached the daemon after, e.g. after an
   * outage). Receivers that acted on those events undo them.
   */
  readonly retracts?: readonly string[];
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

/**
 * The id of a pomodoro or workitem event. `seq` is the record that caused it (null for a
 * transition the timer rings by itself, whose id must not depend on which record sealed it).
 *
 * The instant alone does not make an id unique: records may share one (fk stamps them to the
 * millisecond, Flowkeeper's format may carry whole seconds), and a pomodoro started, voided and
 * started again, two interruptions, or a workitem completed, restored and completed again in one
 * instant are distinct happenings of one type on one pomodoro or workitem. A record causes at most
 * one event of a type on a pomodoro or workitem, so `#<seq>` tells them apart; the seq is part of
 * the history line, so every reader derives the same id.
 */
export function eventId(
  user: string,
  workitemUid: string,
  pomodoro: string | null,
  type: FkEventType,
  at: Micros,
  seq: number | null,
): string {
  const base = `${user}/${workitemUid}/${pomodoro === null ? '' : `${pomodoro}/`}${type}@${formatInstant(at)}`;
  return seq === null ? base : `${base}#${seq}`;
}

/**
 * The id versions up to this one gave the event (`#<seq>` dropped): the daemon also dedupes on it,
 * so that what a daemon accepted before it was upgraded in place, or what a daemon of the previous
 * version claimed in a shared dedupe directory, is not sent again.
 */
export function legacyEventId(id: string): string {
  return id.replace(/#[0-9]+$/, '');
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
