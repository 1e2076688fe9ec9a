import { systemClock, type Clock, type Micros } from '../core/clock';
import type { Logger } from '../core/logger';
import { startHttpServer } from './httpServer';
import { describeTargets, type DaemonConfig } from './options';
import { openParts, reportSources, type DaemonParts } from './parts';
import { daemonMetrics, daemonStatus, readiness, type DaemonStatus, type Readiness } from './report';
import type { OpenSession } from './sessionWatcher';
import { shutdown } from './shutdown';
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

/**
 * The daemon (issue 6): a small factory over named parts (parts.ts): the state directory, one
 * session watcher per configured user and backend, the acceptor with the durable outbox and the
 * cross-daemon claims, one delivery loop per target, the wake-up timer (wakeups.ts), the local
 * HTTP endpoint and its reports (report.ts), and the bounded shutdown (shutdown.ts).
 */
export function createDaemon(deps: DaemonDeps): Daemon {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? realTimers;
  const log = deps.logger.child({ component: 'daemon', daemon: config.name });
  const startedAt = clock.now();
  let parts: DaemonParts | null = null;
  let stopping: Promise<void> | null = null;

  const nextWakeAt = (): Micros | null => parts?.nextWakeAt() ?? null;
  const wakeups = createWakeups({ clock, timers, next: nextWakeAt, tick });
  const schedule = (): void => {
    if ((deps.autoTick ?? true) && stopping === null) wakeups.schedule();
  };
  const sources = () => reportSources(deps, parts, { startedAt, stopping: stopping !== null });

  function tick(): void {
    if (stopping !== null || parts === null) return;
    for (const w of parts.watchers) {
      try {
        w.tick();
      } catch (err) {
        log.error({ err, user: w.config.user }, 'timer step failed');
      }
    }
    parts.saveCheckpoints(false);
    schedule();
  }

  async function start(p: DaemonParts): Promise<void> {
    const state = { id: p.state.id, stateDir: config.stateDir, pending: p.state.outbox.depth(), late: config.late };
    log.info({ ...state, targets: describeTargets(config.targets) }, 'daemon starting');
    if (config.http !== null) {
      const handlers = {
        healthy: () => stopping === null,
        ready: () => readiness(sources()),
        status: () => daemonStatus(sources()),
        metrics: () => daemonMetrics(sources()),
      };
      p.endpoint = await startHttpServer(config.http.host, config.http.port, handlers, deps.logger);
    }
    await Promise.all(p.watchers.map((w) => w.start()));
    p.saveCheckpoints(true);
    schedule();
    log.info({ sessions: p.watchers.length }, 'daemon started');
  }

  return {
    get id() {
      return parts?.state.id ?? '';
    },
    get http() {
      const e = parts?.endpoint ?? null;
      return e === null ? null : { host: e.host, port: e.port };
    },
    async start() {
      try {
        parts = openParts({ ...deps, clock, timers, reschedule: schedule });
        await start(parts);
      } catch (err) {
        await this.stop();
        throw err;
      }
    },
    tick,
    nextWakeAt,
    ready: () => readiness(sources()).ready,
    readiness: () => readiness(sources()),
    status: () => daemonStatus(sources()),
    metrics: () => daemonMetrics(sources()),
    stop() {
      wakeups.stop();
      const budgetMs = config.shutdownTimeoutMs;
      stopping ??= parts === null ? Promise.resolve() : shutdown(parts, { budgetMs, clock, timers, logger: log });
      return stopping;
    },
  };
}
