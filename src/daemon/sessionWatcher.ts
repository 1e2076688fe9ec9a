import type { Clock, Micros } from '../core/clock';
import { FkError, TransportError } from '../core/errors';
import type { Logger } from '../core/logger';
import { daemonEvent, type FkEvent } from '../core/notify/notifications';
import type { StrategyRecord } from '../core/engine/records';
import type { ReplayState } from '../core/engine/replay';
import { timerAt, type TimerView } from '../core/notify/timerView';
import { formatInstant } from '../core/engine/time';
import { redactBackend, type Config } from '../app/config';
import { backendKind, type Session } from '../app/session';
import { createEventRouter, type Checkpoint } from './eventRouter';
import { ignoredRecords, type IgnoredRecords } from './ignored';
import { DEFAULTS, type LatePolicy } from './options';
import { createRetryTimer, realTimers, type Timers } from './timers';

/** Opens a backend session (`openSession` from app/session.ts, or a test's own). */
export type OpenSession = (
  config: Config,
  logger: Logger,
  extra: {
    onRecord?: (r: StrategyRecord, s: ReplayState) => void;
    onHistoryError?: (err: FkError) => void;
    clock?: Clock;
    tolerateHistoryError?: boolean;
  },
) => Promise<Session>;

/** Whether a history is followed: what `/readyz` reports per session. */
export type FollowState = 'connecting' | 'catching-up' | 'online' | 'offline' | 'conflict' | 'closed';

export interface WatcherStatus {
  readonly user: string;
  readonly backend: string;
  readonly state: FollowState;
  /** Why it is offline (the backend's reason) or in conflict (the history error). */
  readonly reason: string | null;
  readonly online: boolean;
  readonly caughtUp: boolean;
  readonly lastSeq: number;
  readonly historyError: { readonly code: string; readonly message: string } | null;
  /** Records this history's readers ignore (junk, lost races, rejected by a rule). */
  readonly ignored: IgnoredRecords;
  readonly timer: TimerView | null;
  /** When the daemon wakes up next for this user (a transition or a held event). */
  readonly nextWakeAt: string | null;
}

export interface SessionWatcher {
  readonly key: string;
  readonly config: Config;
  /** Connects (retrying while the backend is unreachable), catches up, applies past transitions. */
  start(): Promise<void>;
  /** Rings transitions that are due and releases held events due by now. */
  tick(): void;
  nextWakeAt(): Micros | null;
  /** Up to where this user's events are handled (persisted as the restart checkpoint). */
  watermark(): Checkpoint;
  status(): WatcherStatus;
  readonly caughtUp: boolean;
  /** Caught up, online and without a history error: the history is followed. */
  readonly followed: boolean;
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
  readonly checkpoint: Checkpoint | null;
  /** Receives every event to forward. */
  readonly emit: (event: FkEvent) => void;
  /** Called when the next wake-up instant may have changed. */
  readonly reschedule: () => void;
  readonly onLateDropped?: (n: number) => void;
  /** Delays before re-opening an unreachable or rewritten history. @default DEFAULTS.session.retry */
  readonly retry?: { readonly minMs: number; readonly maxMs: number };
  /** @default realTimers */
  readonly timers?: Timers;
}

/** Identifies a session in checkpoints and logs (user and backend, credentials stripped). */
export function watcherKey(config: Config): string {
  return `${config.user} ${redactBackend(config.backend)}`;
}

/**
 * Keeps one user's history followed: opens the session (retrying while the backend is
 * unreachable), feeds every record to the event router (eventRouter.ts), reports the backend
 * going offline and coming back, and re-opens a file history that was rewritten or shrunk under
 * it (desktop repair, sync tools) or that turned unreadable, by itself (issue 11.6). A history
 * that stays unusable after a fresh read is a conflict: logged at error, `daemon.conflict` sent.
 */
export function createSessionWatcher(deps: WatcherDeps): SessionWatcher {
  const { config, clock } = deps;
  const backend = redactBackend(config.backend);
  const isFile = backendKind(config.backend) === 'file';
  const log = deps.logger.child({ component: 'watcher', user: config.user, backend });
  const { late, checkpoint, emit, onLateDropped } = deps;
  const router = createEventRouter({ clock, late, logger: log, checkpoint, emit, onLateDropped });
  const retry = createRetryTimer({ ...(deps.retry ?? DEFAULTS.session.retry), jitter: 0.2 }, deps.timers ?? realTimers);
  let session: Session | null = null;
  /** The client's live model; known from the first record on, before `open` resolves. */
  let state: ReplayState | null = null;
  let follow: FollowState = 'connecting';
  let reason: string | null = null;
  /** The history error already reported (a conflict is sent once per error). */
  let reported: string | null = null;
  let closed = false;
  let offStatus: (() => void) | null = null;
  /** Set once caught up the first time: from then on online/offline changes are events. */
  let announced = false;

  const user = () => state?.tenant.users.get(config.user);
  const emitDaemon = (
    type: 'daemon.online' | 'daemon.offline' | 'daemon.conflict',
    detail: Record<string, string | number | boolean | null>,
  ) => deps.emit(daemonEvent(type, config.user, deps.daemonId, clock.now(), { backend, ...detail }).event);

  async function openOnce(): Promise<Session> {
    state = null;
    router.beginCatchUp(announced ? router.watermark() : deps.checkpoint);
    return deps.open(config, deps.logger, {
      onRecord: (r, live) => {
        state = live;
        router.record(user(), r);
        if (!router.catchingUp) deps.reschedule();
      },
      onHistoryError: (err) => onHistoryError(err),
      clock,
      tolerateHistoryError: true,
    });
  }

  /** Opens (again), retrying a backend that cannot be reached; null once closed meanwhile. */
  async function openWithRetry(): Promise<Session | null> {
    for (;;) {
      try {
        const s = await openOnce();
        retry.reset();
        if (!closed) return s;
        await s.close();
        return null;
      } catch (err) {
        if (closed) return null;
        if (!(err instanceof TransportError && err.retryable)) throw err;
        const delayMs = retry.next();
        log.warn({ err, delayMs }, 'backend unreachable, retrying');
        if (!(await retry.wait(delayMs))) return null;
      }
    }
  }

  function attach(s: Session): void {
    session = s;
    state = s.client.state;
    offStatus = s.client.onStatus((st) => onStatus(st.kind, st.kind === 'offline' ? st.reason : undefined));
    router.endCatchUp(user());
    const err = s.client.historyError;
    follow = err !== null ? 'conflict' : s.client.online ? 'online' : 'offline';
    log.info({ lastSeq: s.client.state.lastSeq, late: deps.late }, 'caught up');
    if (err !== null) reportConflict(err);
    else if (follow === 'online') {
      reason = null;
      reported = null;
      emitDaemon('daemon.online', { lastSeq: s.client.state.lastSeq });
    }
    announced = true;
    deps.reschedule();
  }

  function reportConflict(err: FkError): void {
    follow = 'conflict';
    reason = err.message;
    if (reported === err.message) return;
    reported = err.message;
    log.error({ err }, 'history conflict: not followed until it is repaired');
    emitDaemon('daemon.conflict', {
      code: err.code,
      seq: session?.client.state.lastSeq ?? state?.lastSeq ?? null,
      reason: err.message,
    });
  }

  function onHistoryError(err: FkError): void {
    if (router.catchingUp) return; // reported once the (re)open finishes
    if (!isFile) return reportConflict(err);
    // A file may have been rewritten under us (read from a stale offset): read it anew first.
    goOffline(`unreadable: ${err.message}`);
    reopen(err.message);
  }

  function goOffline(why: string): void {
    if (follow !== 'online') return;
    follow = 'offline';
    reason = why;
    log.warn({ reason }, 'history not followed: the backend is offline (read-only)');
    emitDaemon('daemon.offline', { reason, readOnly: true });
  }

  function onStatus(kind: string, why?: string): void {
    if (closed || kind === 'connecting') return;
    if (kind === 'offline') {
      goOffline(why ?? kind);
      // A file that was rewritten, shrunk or removed does not come back by itself (nor does a
      // repaired one in conflict): read it anew.
      if (isFile) reopen(why ?? kind);
    } else if (kind === 'online' && follow === 'offline' && !reopening) {
      follow = 'online';
      reason = null;
      log.info({}, 'backend back online');
      emitDaemon('daemon.online', { lastSeq: session?.client.state.lastSeq ?? 0 });
    }
  }

  let reopening = false;
  /** Closes the session and reads the history again from scratch (a file rewritten under us). */
  function reopen(why: string): void {
    if (reopening || closed) return;
    reopening = true;
    void (async () => {
      try {
        const old = session;
        session = null;
        offStatus?.();
        offStatus = null;
        await old?.close().catch((err: unknown) => log.warn({ err }, 'session close failed'));
        const delayMs = retry.next();
        log.warn({ reason: why, delayMs }, 're-opening the history');
        if (!(await retry.wait(delayMs))) return;
        const s = await openWithRetry();
        if (s !== null) attach(s);
      } catch (err) {
        follow = 'offline';
        reason = err instanceof Error ? err.message : String(err);
        log.error({ err }, 'cannot re-open the history; retrying');
        reopening = false;
        reopen(reason);
        return;
      }
      reopening = false;
    })();
  }

  return {
    key: watcherKey(config),
    config,
    async start() {
      const s = await openWithRetry();
      if (s !== null) attach(s);
    },
    tick() {
      if (closed || session === null) return;
      router.tick(user());
      deps.reschedule();
    },
    nextWakeAt: () => (session === null ? null : router.nextWakeAt(user())),
    watermark: () => router.watermark(),
    status() {
      const u = user();
      const wake = session === null ? null : router.nextWakeAt(u);
      const err = session?.client.historyError ?? null;
      return {
        user: config.user,
        backend,
        state: follow === 'connecting' && router.catchingUp && state !== null ? 'catching-up' : follow,
        reason,
        online: follow === 'online',
        caughtUp: announced && session !== null,
        lastSeq: session?.client.state.lastSeq ?? 0,
        historyError: err === null ? null : { code: err.code, message: err.message },
        ignored: ignoredRecords(session?.client.state),
        timer: u === undefined ? null : timerAt(u, clock.now()),
        nextWakeAt: wake === null ? null : formatInstant(wake),
      };
    },
    get caughtUp() {
      return announced && session !== null;
    },
    get followed() {
      return session !== null && follow === 'online';
    },
    async close() {
      closed = true;
      follow = 'closed';
      retry.cancel();
      offStatus?.();
      router.clear();
      const s = session;
      session = null;
      state = null;
      if (s) await s.close();
    },
  };
}
