import type { Clock, Micros } from '../core/clock';
import { TransportError } from '../core/errors';
import { daemonEvent, deriveEvents, snapshotTimer, type DerivedEvent, type FkEvent, type TimerSnapshot } from '../core/notify/notifications';
import type { Logger } from '../core/logger';
import type { StrategyRecord } from '../core/engine/records';
import type { ReplayState } from '../core/engine/replay';
import { nextDeadline, timerAt, type TimerView } from '../core/notify/timerView';
import { formatInstant } from '../core/engine/time';
import { redactBackend, type Config } from '../app/config';
import type { Session } from '../app/session';
import type { LatePolicy } from './options';

/** Opens a backend session (`openSession` from cli/session.ts, or a test's own). */
export type OpenSession = (
  config: Config,
  logger: Logger,
  extra: { onRecord?: (r: StrategyRecord, s: ReplayState) => void; clock?: Clock },
) => Promise<Session>;

export interface WatcherStatus {
  readonly user: string;
  readonly backend: string;
  readonly online: boolean;
  readonly caughtUp: boolean;
  readonly lastSeq: number;
  readonly historyError: { readonly code: string; readonly message: string } | null;
  readonly timer: TimerView | null;
  /** When the daemon wakes up next for this user (a transition or a held event). */
  readonly nextWakeAt: string | null;
}

export interface SessionWatcher {
  readonly key: string;
  readonly config: Config;
  /** Connects (retrying while the backend is unreachable), catches up, applies past transitions. */
  start(): Promise<void>;
  /** Seals transitions that are due and releases held events due by now. */
  tick(): void;
  nextWakeAt(): Micros | null;
  /** Up to where this user's events are handled (persisted as the restart checkpoint). */
  watermark(): Micros;
  status(): WatcherStatus;
  readonly caughtUp: boolean;
  readonly online: boolean;
  close(): Promise<void>;
}

export interface WatcherDeps {
  readonly config: Config;
  readonly open: OpenSession;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly daemonId: string;
  readonly late: LatePolicy;
  /** The checkpoint of the previous run; null on the first run (history before it is not news). */
  readonly watermark: Micros | null;
  /** Receives every event to forward. */
  readonly emit: (event: FkEvent) => void;
  /** Called when the next wake-up instant may have changed. */
  readonly reschedule: () => void;
  /** Lateness counters. */
  readonly onLateDropped?: (n: number) => void;
}

/** Identifies a session in checkpoints and logs (user and backend, credentials stripped). */
export function watcherKey(config: Config): string {
  return `${config.user} ${redactBackend(config.backend)}`;
}

/** A transition found due more than this late (µs) while running counts as late. */
const OVERDUE_US = 30_000_000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * Keeps one user's history live and runs that user's timer with nobody at a desktop. Every step
 * (a record applied, or the timer sealed at its planned instant) is diffed against the snapshot
 * taken after the previous step (core/notify/notifications.ts). Classification:
 * - while catching up at start: events up to the previous run's watermark were handled then and
 *   are skipped; events after it but in the past happened while no daemon ran: transitions follow
 *   the `late` policy, user actions are sent (marked late);
 * - a timer transition whose planned instant is still ahead (a record rang it early, within
 *   Flowkeeper's 1 s seal margin) is held and emitted at its instant;
 * - everything else is emitted now.
 * The timer never fires in the past: a transition found due at start is applied silently.
 */
export function createSessionWatcher(deps: WatcherDeps): SessionWatcher {
  const { config, clock } = deps;
  const backend = redactBackend(config.backend);
  const log = deps.logger.child({ component: 'watcher', user: config.user, backend });
  let session: Session | null = null;
  /** The client's live model; known from the first record on, before `open` resolves. */
  let state: ReplayState | null = null;
  let snap: TimerSnapshot = snapshotTimer(undefined);
  let catchingUp = true;
  let caughtUp = false;
  let online = false;
  let closed = false;
  let conflictSent = false;
  let offStatus: (() => void) | null = null;
  let cancelRetry: (() => void) | null = null;
  const startedAt = clock.now();
  let mark: Micros = deps.watermark ?? startedAt;
  const held: DerivedEvent[] = [];

  const user = () => state?.tenant.users.get(config.user);

  function route(d: DerivedEvent): void {
    const now = clock.now();
    // Overdue: found due much later than planned although the daemon ran (the machine slept,
    // the clock jumped). Like a transition found at start, it is not rung in the past.
    const overdue = d.source === 'timer' && now - d.at > OVERDUE_US;
    if ((catchingUp || overdue) && d.at <= now) {
      if (catchingUp && d.at <= mark) return;
      // Happened while no daemon ran. A transition is applied silently unless late: send (the
      // timer never fires in the past); a user action is a fact nobody was told about: sent.
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

  function step(record: StrategyRecord | null): void {
    const u = user();
    const events = deriveEvents(u, snap, record);
    snap = snapshotTimer(u);
    for (const d of events) route(d);
    checkConflict();
    // A record may start, end or move the timer: re-arm the wake-up (after catch-up, once).
    if (!catchingUp) {
      advanceMark();
      deps.reschedule();
    }
  }

  function checkConflict(): void {
    const err = session?.client.historyError ?? null;
    if (err === null || conflictSent) return;
    conflictSent = true;
    log.error({ err }, 'history conflict: this user is read-only until the history is repaired');
    deps.emit(daemonEvent('daemon.conflict', config.user, deps.daemonId, clock.now(), { backend, code: err.code, seq: session?.client.state.lastSeq ?? null }).event);
  }

  function advanceMark(): void {
    const now = clock.now();
    const bound = held.length > 0 ? Math.min(now, (held[0] as DerivedEvent).at - 1) : now;
    if (bound > mark) mark = bound;
  }

  function tick(): void {
    if (closed || session === null) return;
    const u = user();
    const deadline = u === undefined ? null : nextDeadline(u);
    if (deadline !== null && clock.now() >= deadline) {
      session.client.stateNow();
      step(null);
    }
    const now = clock.now();
    while (held.length > 0 && (held[0] as DerivedEvent).at <= now) deps.emit((held.shift() as DerivedEvent).event);
    if (!catchingUp) advanceMark();
    deps.reschedule();
  }

  async function openWithRetry(): Promise<Session> {
    for (let attempt = 1; ; attempt++) {
      snap = snapshotTimer(undefined);
      state = null;
      try {
        return await deps.open(config, deps.logger, {
          onRecord: (r, live) => {
            state = live;
            step(r);
          },
          clock,
        });
      } catch (err) {
        if (closed || !(err instanceof TransportError && err.retryable)) throw err;
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (attempt - 1));
        log.warn({ err, attempt, delayMs }, 'backend unreachable, retrying');
        await new Promise<void>((r) => {
          const t = setTimeout(r, delayMs);
          cancelRetry = () => {
            clearTimeout(t);
            r();
          };
        });
        cancelRetry = null;
        if (closed) throw err;
      }
    }
  }

  function onStatus(kind: string, reason?: string): void {
    const was = online;
    online = kind === 'online';
    if (!caughtUp || was === online || kind === 'connecting') return;
    const at = clock.now();
    if (online) deps.emit(daemonEvent('daemon.online', config.user, deps.daemonId, at, { backend, lastSeq: session?.client.state.lastSeq ?? 0 }).event);
    else if (!closed) deps.emit(daemonEvent('daemon.offline', config.user, deps.daemonId, at, { backend, reason: reason ?? kind, readOnly: true }).event);
  }

  return {
    key: watcherKey(config),
    config,
    async start() {
      const s = await openWithRetry();
      if (closed) {
        await s.close();
        return;
      }
      session = s;
      state = s.client.state;
      online = s.client.online;
      offStatus = s.client.onStatus((st) => onStatus(st.kind, st.kind === 'offline' ? st.reason : undefined));
      // Transitions due while no daemon ran: applied now, stamped at their planned instants.
      tick();
      catchingUp = false;
      caughtUp = true;
      advanceMark();
      log.info({ lastSeq: s.client.state.lastSeq, late: deps.late }, 'caught up');
      deps.emit(daemonEvent('daemon.online', config.user, deps.daemonId, clock.now(), { backend, lastSeq: s.client.state.lastSeq }).event);
      checkConflict();
      deps.reschedule();
    },
    tick,
    nextWakeAt() {
      const u = user();
      const deadline = u === undefined ? null : nextDeadline(u);
      const h = held[0]?.at ?? null;
      if (deadline === null) return h;
      return h === null ? deadline : Math.min(deadline, h);
    },
    watermark: () => mark,
    status() {
      const u = user();
      const wake = this.nextWakeAt();
      const err = session?.client.historyError ?? null;
      return {
        user: config.user,
        backend,
        online,
        caughtUp,
        lastSeq: session?.client.state.lastSeq ?? 0,
        historyError: err === null ? null : { code: err.code, message: err.message },
        timer: u === undefined ? null : timerAt(u, clock.now()),
        nextWakeAt: wake === null ? null : formatInstant(wake),
      };
    },
    get caughtUp() {
      return caughtUp;
    },
    get online() {
      return online && session !== null;
    },
    async close() {
      closed = true;
      cancelRetry?.();
      offStatus?.();
      held.length = 0;
      const s = session;
      session = null;
      state = null;
      if (s) await s.close();
    },
  };
}
