import { systemClock, type Clock, type Micros } from '../core/clock';
import { daemonEvent } from '../core/notify/notifications';
import type { Logger } from '../core/logger';
import { openSession } from '../app/session';
import { createAcceptor, type Acceptor } from './acceptor';
import { startDeliveryLoop, type DeliveryLoop } from './delivery';
import { startHttpServer, type HttpEndpoint } from './httpServer';
import { describeTargets, type DaemonConfig } from './options';
import {
  daemonMetrics,
  daemonStatus,
  readiness,
  type DaemonStatus,
  type Readiness,
  type ReportSources,
} from './report';
import { createSessionWatcher, watcherKey, type OpenSession, type SessionWatcher } from './sessionWatcher';
import { openDaemonState, type DaemonState } from './stateFiles';
import { createTarget, type Target } from './targets';
import { realTimers, type Timers } from './timers';
import { createWakeups } from './wakeups';

export type { DaemonStatus, Readiness } from './report';

export interface DaemonDeps {
  readonly config: DaemonConfig;
  readonly logger: Logger;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default realTimers */
  readonly timers?: Timers;
  /**
   * Wake up by itself at each deadline. Tests on a manual clock turn it off and call `tick()`
   * after moving the clock. @default true
   */
  readonly autoTick?: boolean;
  /** @default openSession from app/session.ts */
  readonly openSession?: OpenSession;
  /** Where the stdout target writes. @default process.stdout */
  readonly stdout?: NodeJS.WritableStream;
}

export interface Daemon {
  /** Stable across restarts (kept in the state directory). */
  readonly id: string;
  /** Opens the outbox, the targets, the HTTP endpoint and every session (caught up when it resolves). */
  start(): Promise<void>;
  /** Rings every due transition and releases due events (what the scheduler runs at deadlines). */
  tick(): void;
  /** The earliest instant any session needs a wake-up, or null. */
  nextWakeAt(): Micros | null;
  ready(): boolean;
  readiness(): Readiness;
  status(): DaemonStatus;
  metrics(): string;
  /** The HTTP endpoint's address once started, null when disabled. */
  readonly http: { readonly host: string; readonly port: number } | null;
  /**
   * Graceful stop, bounded by `shutdownTimeoutMs` whatever state the backends are in: stops
   * accepting work, drains the outbox, saves checkpoints, closes sessions and targets (giving up
   * on a close that hangs). Undelivered events stay in the outbox for the next start.
   */
  stop(): Promise<void>;
}

/** What a run holds open besides sessions and deliveries. */
interface Held extends DaemonState {
  readonly acceptor: Acceptor;
}

/** Resolves true when `p` settles before `deadline` does, false otherwise (`p` is left running). */
function before(p: Promise<unknown>, deadline: Promise<void>): Promise<boolean> {
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    deadline.then(() => false),
  ]);
}

/**
 * The daemon's composition (issue 6): one session watcher per configured user and backend, the
 * acceptor with the durable outbox and the cross-daemon claims, one delivery loop per target,
 * checkpoints for restarts, the wake-up timer and the local HTTP endpoint.
 */
export function createDaemon(deps: DaemonDeps): Daemon {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? realTimers;
  const log = deps.logger.child({ component: 'daemon', daemon: config.name });
  const startedAt = clock.now();
  const watchers: SessionWatcher[] = [];
  const targets: Target[] = [];
  const loops = new Map<string, DeliveryLoop>();
  let held: Held | null = null;
  let endpoint: HttpEndpoint | null = null;
  let stopping: Promise<void> | null = null;
  let lateDropped = 0;
  let lastSave = 0;
  let id = '';

  const nextWakeAt = (): Micros | null =>
    watchers.reduce<Micros | null>((next, w) => {
      const t = w.nextWakeAt();
      return t !== null && (next === null || t < next) ? t : next;
    }, null);
  const wakeups = createWakeups({ clock, timers, next: nextWakeAt, tick });
  const schedule = (): void => {
    if ((deps.autoTick ?? true) && stopping === null) wakeups.schedule();
  };

  function saveCheckpoints(force: boolean): void {
    if (held === null) return;
    for (const w of watchers) if (w.caughtUp) held.checkpoints.set(w.key, w.watermark());
    if (!force && Date.now() - lastSave < 1000) return;
    lastSave = Date.now();
    try {
      held.checkpoints.save();
    } catch (err) {
      log.warn({ err }, 'checkpoint write failed');
    }
  }

  function tick(): void {
    if (stopping !== null) return;
    for (const w of watchers) {
      try {
        w.tick();
      } catch (err) {
        log.error({ err, user: w.config.user }, 'timer step failed');
      }
    }
    saveCheckpoints(false);
    schedule();
  }

  const sources = (): ReportSources => ({
    config,
    id,
    startedAt,
    stopping: stopping !== null,
    watchers,
    loops,
    outbox: held?.outbox ?? null,
    accepted: held?.acceptor.stats ?? null,
    lateDropped,
  });

  function openState(): Held {
    const state = openDaemonState(config, deps.logger);
    const kick = (name: string): void => loops.get(name)?.kick();
    const onAccepted = (): void => saveCheckpoints(false);
    const acceptor = createAcceptor({
      outbox: state.outbox,
      claims: state.claims,
      targets,
      kick,
      onAccepted,
      logger: log,
    });
    return { ...state, acceptor };
  }

  async function start(this: Daemon): Promise<void> {
    try {
      held = openState();
      const h = held;
      id = h.id;
      for (const t of config.targets) {
        const target = createTarget(t, deps.logger, deps.stdout);
        targets.push(target);
        loops.set(t.name, startDeliveryLoop(target, h.outbox, deps.logger, { timers }));
      }
      log.info(
        {
          id: h.id,
          stateDir: config.stateDir,
          targets: describeTargets(config.targets),
          pending: h.outbox.depth(),
          late: config.late,
        },
        'daemon starting',
      );
      if (config.http !== null) {
        endpoint = await startHttpServer(
          config.http.host,
          config.http.port,
          {
            healthy: () => stopping === null,
            ready: () => readiness(sources()),
            status: () => daemonStatus(sources()),
            metrics: () => daemonMetrics(sources()),
          },
          deps.logger,
        );
      }
      for (const u of config.users) {
        watchers.push(
          createSessionWatcher({
            config: u,
            open: deps.openSession ?? openSession,
            clock,
            timers,
            logger: deps.logger,
            daemonId: h.id,
            late: config.late,
            checkpoint: h.checkpoints.get(watcherKey(u)),
            emit: (e) => h.acceptor.accept(e),
            reschedule: schedule,
            onLateDropped: (n) => (lateDropped += n),
          }),
        );
      }
      await Promise.all(watchers.map((w) => w.start()));
      saveCheckpoints(true);
      schedule();
      log.info({ sessions: watchers.length }, 'daemon started');
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * The graceful stop, within `shutdownTimeoutMs` in every state: the outbox drains for the budget
   * less a reserve (up to 1 s) kept for closing connections; a close still running at the end of
   * the budget is given up on.
   */
  async function shutdown(): Promise<void> {
    const budget = config.shutdownTimeoutMs;
    let budgetTimer: unknown = null;
    const deadline = new Promise<void>((r) => (budgetTimer = timers.setTimeout(r, budget)));
    wakeups.stop();
    const h = held;
    log.info({ pending: h?.outbox.depth() ?? 0 }, 'daemon stopping');
    if (h !== null) {
      clearInterval(h.sweep);
      for (const w of watchers) {
        if (!w.caughtUp) continue;
        const offline = daemonEvent('daemon.offline', w.config.user, h.id, clock.now(), {
          reason: 'shutdown',
          readOnly: true,
        });
        h.acceptor.accept(offline.event);
      }
      h.acceptor.close();
    }
    await before(endpoint?.close() ?? Promise.resolve(), deadline);
    const drainMs = budget - Math.min(1000, budget / 2);
    const drained = await before(
      Promise.all([...loops.values()].map((l) => l.drain(drainMs))).then((d) => d.every(Boolean)),
      deadline,
    );
    if (!drained) log.warn({ pending: h?.outbox.depth() ?? 0 }, 'outbox not drained; kept for the next start');
    saveCheckpoints(true);
    const closes: Array<[string, Promise<unknown>]> = [
      ...watchers.map((w): [string, Promise<unknown>] => [`session ${w.key}`, w.close()]),
      ...[...loops.values()].map((l): [string, Promise<unknown>] => [`delivery ${l.target.name}`, l.stop(budget)]),
      ...targets.map((t): [string, Promise<unknown>] => [`target ${t.name}`, t.close()]),
    ];
    for (const [what, p] of closes) p.catch((err: unknown) => log.warn({ err, what }, 'close failed'));
    const done = await Promise.all(closes.map(([, p]) => before(p, deadline)));
    timers.clearTimeout(budgetTimer);
    const hanging = closes.filter((_c, i) => !done[i]).map(([what]) => what);
    if (hanging.length > 0) log.warn({ hanging, timeoutMs: budget }, 'close timed out; stopping anyway');
    if (h !== null) {
      h.outbox.compact();
      h.outbox.close();
      h.release();
    }
    held = null;
    log.info({}, 'daemon stopped');
  }

  return {
    get id() {
      return id;
    },
    get http() {
      return endpoint === null ? null : { host: endpoint.host, port: endpoint.port };
    },
    start,
    tick,
    nextWakeAt,
    ready: () => readiness(sources()).ready,
    readiness: () => readiness(sources()),
    status: () => daemonStatus(sources()),
    metrics: () => daemonMetrics(sources()),
    stop() {
      stopping ??= shutdown();
      return stopping;
    },
  };
}
