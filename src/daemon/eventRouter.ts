import type { Clock, Micros } from '../core/clock';
import type { Logger } from '../core/logger';
import type { User } from '../core/engine/model';
import type { StrategyRecord } from '../core/engine/records';
import {
  deriveEvents,
  snapshotTimer,
  upcomingTransitions,
  type DerivedEvent,
  type FkEvent,
  type TimerSnapshot,
} from '../core/notify/notifications';
import type { LatePolicy } from './options';

/** Up to where a user's events were handled: an instant (timer) and a history sequence (records). */
export interface Checkpoint {
  readonly at: Micros;
  /** Last record applied; null in checkpoints written before it was kept. */
  readonly seq: number | null;
}

export interface RouterDeps {
  readonly clock: Clock;
  readonly late: LatePolicy;
  readonly logger: Logger;
  /** The previous run's checkpoint; null on the very first run (history before it is not news). */
  readonly checkpoint: Checkpoint | null;
  /** Receives every event to forward. */
  readonly emit: (event: FkEvent) => void;
  readonly onLateDropped?: (n: number) => void;
}

/**
 * Turns one user's history into notifications, without ever changing the model (issue 11.2).
 * The model changes only by records, each applied at its own timestamp; what the timer rings by
 * itself is projected from it (`upcomingTransitions`) and rung when the clock reaches it. So a
 * record that arrives late (after an outage) but was stamped earlier still applies, and when it
 * voids a pomodoro whose later transitions were already sent, the `pomodoro.voided` event lists
 * them in `retracts`.
 *
 * Classification of an event:
 * - while catching up (start, or a re-opened history): what the previous run handled is skipped
 *   (records up to its sequence, transitions up to its instant); what happened while nobody
 *   watched is sent marked late, except transitions under `late: 'drop'` (applied silently);
 * - a transition whose instant is still ahead (a record rang it early, within Flowkeeper's 1 s
 *   seal margin) is held and sent at its instant; one found long overdue while running (the
 *   machine slept) counts as late;
 * - everything else is sent now.
 */
export interface EventRouter {
  /** A session starts replaying the history from scratch (its model is new). */
  beginCatchUp(from: Checkpoint | null): void;
  /** The model just applied `record`; `user` is the watched user in it after the record. */
  record(user: User | undefined, record: StrategyRecord): void;
  /** The replay reached the live tail: ring what fell due meanwhile; events are live from now on. */
  endCatchUp(user: User | undefined): void;
  /** The clock reached a wake-up: rings due transitions, releases held events. */
  tick(user: User | undefined): void;
  /** The next instant something rings or is released, or null. */
  nextWakeAt(user: User | undefined): Micros | null;
  readonly catchingUp: boolean;
  /** Up to where events are handled (the restart checkpoint). */
  watermark(): Checkpoint;
  /** Forgets held events (the session closes). */
  clear(): void;
}

/** A transition found due more than this late (µs) while running counts as late. */
const OVERDUE_US = 30_000_000;
/** Transitions remembered as handled (for de-duplication and retractions); oldest forgotten first. */
const MAX_HANDLED = 512;

export function createEventRouter(deps: RouterDeps): EventRouter {
  const { clock } = deps;
  const log = deps.logger;
  let snap: TimerSnapshot = snapshotTimer(undefined);
  let catchingUp = true;
  /** What the run being caught up to had handled (the previous run's checkpoint, or ours). */
  let from: Checkpoint | null = deps.checkpoint;
  let mark: Micros = deps.checkpoint?.at ?? clock.now();
  let lastSeq: number | null = deps.checkpoint?.seq ?? null;
  const held: DerivedEvent[] = [];
  /** Ids of the timer transitions already routed (sent, held, dropped or handled before). */
  const handled = new Map<string, Micros>();

  function remember(d: DerivedEvent): void {
    handled.set(d.event.id, d.at);
    if (handled.size > MAX_HANDLED) {
      for (const id of [...handled.keys()].slice(0, MAX_HANDLED / 2)) handled.delete(id);
    }
  }

  /** Whether the run being caught up to had handled it already. */
  function handledBefore(d: DerivedEvent, seq: number | null): boolean {
    if (from === null) return d.at <= mark;
    if (d.source === 'record' && seq !== null && from.seq !== null) return seq <= from.seq;
    return d.at <= from.at;
  }

  /** Sends, holds or drops one event that was not handled before. */
  function route(d: DerivedEvent): void {
    const now = clock.now();
    const overdue = d.source === 'timer' && now - d.at > OVERDUE_US;
    if ((catchingUp || overdue) && d.at <= now) {
      // Happened while no daemon watched. A transition is applied silently unless late: send
      // (the timer never fires in the past); a user action is a fact nobody was told about.
      if (d.source === 'timer' && deps.late === 'drop') {
        deps.onLateDropped?.(1);
        log.info({ id: d.event.id }, 'transition while the daemon was down applied silently');
        return;
      }
      deps.emit({ ...d.event, late: true });
      return;
    }
    if (d.source === 'timer' && d.at > now) {
      held.push(d);
      held.sort((a, b) => a.at - b.at);
      return;
    }
    deps.emit(d.event);
  }

  /**
   * A void of the pomodoro that was running before the step: transitions it was going to ring
   * after the void's instant never happened. Those already sent are retracted; held ones dropped.
   */
  function withRetractions(d: DerivedEvent, before: TimerSnapshot): DerivedEvent {
    const undone = new Set(before.upcoming.filter((t) => t.at > d.at).map((t) => t.event.id));
    if (undone.size === 0) return d;
    for (let i = held.length - 1; i >= 0; i--) {
      const id = (held[i] as DerivedEvent).event.id;
      if (undone.delete(id)) held.splice(i, 1);
    }
    const previous = deps.checkpoint;
    const sent = before.upcoming.filter(
      (t) => undone.has(t.event.id) && (handled.has(t.event.id) || (previous !== null && t.at <= previous.at)),
    );
    if (sent.length === 0) return d;
    const retracts = sent.map((t) => t.event.id);
    log.warn({ id: d.event.id, retracts }, 'a void recorded earlier arrived late: retracting transitions already sent');
    return { ...d, event: { ...d.event, retracts } };
  }

  /** Transitions due by now that were not routed yet. */
  function ringDue(user: User | undefined): void {
    const now = clock.now();
    for (const d of upcomingTransitions(user)) {
      if (d.at > now) break;
      if (handled.has(d.event.id)) continue;
      remember(d);
      if (!(catchingUp && handledBefore(d, null))) route(d);
    }
  }

  function advanceMark(): void {
    const now = clock.now();
    const bound = held.length > 0 ? Math.min(now, (held[0] as DerivedEvent).at - 1) : now;
    if (bound > mark) mark = bound;
  }

  function release(): void {
    const now = clock.now();
    while (held.length > 0 && (held[0] as DerivedEvent).at <= now) deps.emit((held.shift() as DerivedEvent).event);
  }

  return {
    beginCatchUp(checkpoint) {
      catchingUp = true;
      from = checkpoint;
      snap = snapshotTimer(undefined);
    },
    record(user, record) {
      const before = snap;
      const events = deriveEvents(user, before, record);
      snap = snapshotTimer(user);
      for (const d of events) {
        if (d.source === 'timer') {
          if (handled.has(d.event.id)) continue;
          remember(d);
        }
        if (catchingUp && handledBefore(d, record.seq)) continue;
        route(d.event.type === 'pomodoro.voided' ? withRetractions(d, before) : d);
      }
      lastSeq = record.seq;
      if (catchingUp) return;
      ringDue(user);
      advanceMark();
    },
    endCatchUp(user) {
      ringDue(user);
      release();
      catchingUp = false;
      advanceMark();
    },
    tick(user) {
      ringDue(user);
      release();
      if (!catchingUp) advanceMark();
    },
    nextWakeAt(user) {
      const next = upcomingTransitions(user).find((d) => !handled.has(d.event.id))?.at ?? null;
      const h = held[0]?.at ?? null;
      if (next === null) return h;
      return h === null ? next : Math.min(next, h);
    },
    get catchingUp() {
      return catchingUp;
    },
    watermark: () => ({ at: mark, seq: lastSeq }),
    clear() {
      held.length = 0;
    },
  };
}
