import { join } from 'node:path';
import { systemClock, type Clock, type Micros } from '../core/clock';
import { daemonEvent, matchesFilter, type FkEvent, type FkEventType } from '../core/notify/notifications';
import type { Logger } from '../core/logger';
import { formatInstant } from '../core/engine/time';
import { openSession } from '../app/session';
import { createClaimStore, type ClaimStore } from './claims';
import { describeTargets } from './daemonConfig';
import { startDeliveryLoop, type DeliveryLoop } from './delivery';
import { startHttpServer, type HttpEndpoint } from './httpServer';
import { renderPrometheus, type MetricFamily } from './metrics';
import type { DaemonConfig } from './options';
import { openOutbox, type Outbox } from './outbox';
import { createSessionWatcher, watcherKey, type OpenSession, type SessionWatcher } from './sessionWatcher';
import { acquireLock, daemonIdOf, openCheckpoints, type Checkpoints } from './stateFiles';
import { createTarget, type Target } from './targets';

export interface DaemonDeps {
  readonly config: DaemonConfig;
  readonly logger: Logger;
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * Wake up by itself at each deadline (setTimeout). Tests on a manual clock turn it off and call
   * `tick()` after moving the clock. @default true
   */
  readonly autoTick?: boolean;
  /** @default openSession from cli/session.ts */
  readonly openSession?: OpenSession;
  /** Where the stdout target writes. @default process.stdout */
  readonly stdout?: NodeJS.WritableStream;
}

export interface Daemon {
  /** Stable across restarts (kept in the state directory). */
  readonly id: string;
  /** Opens the outbox, the targets, the HTTP endpoint and every session (caught up when it resolves). */
  start(): Promise<void>;
  /** Seals every due transition and releases due events (what the scheduler runs at deadlines). */
  tick(): void;
  /** The earliest instant any session needs a wake-up, or null. */
  nextWakeAt(): Micros | null;
  ready(): boolean;
  status(): DaemonStatus;
  metrics(): string;
  /** The HTTP endpoint's address once started, null when disabled. */
  readonly http: { readonly host: string; readonly port: number } | null;
  /**
   * Graceful stop: stops accepting work, flushes the outbox (up to `shutdownTimeoutMs`), closes
   * sessions and targets. Undelivered events stay in the outbox for the next start.
   */
  stop(): Promise<void>;
}

export interface DaemonStatus {
  readonly daemon: { readonly id: string; readonly name: string; readonly startedAt: string; readonly late: string; readonly stopping: boolean };
  readonly users: ReturnType<SessionWatcher['status']>[];
  readonly targets: Array<Record<string, unknown>>;
  readonly outbox: { readonly pending: number };
}

/**
 * Longest single setTimeout. Timers run on a monotonic clock and deadlines are wall-clock
 * instants, so longer waits re-check once a minute (a clock step is noticed within that).
 */
const MAX_SLEEP_MS = 60_000;

/**
 * The daemon's composition (issue 6): one session watcher per configured user/backend, one
 * delivery loop per target, the durable outbox between them, cross-daemon claims for
 * deduplication, checkpoints for restarts, and the local HTTP endpoint.
 */
export function createDaemon(deps: DaemonDeps): Daemon {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const autoTick = deps.autoTick ?? true;
  const log = deps.logger.child({ component: 'daemon', daemon: config.name });
  const startedAt = clock.now();
  let id = '';
  let outbox: Outbox | null = null;
  let claims: ClaimStore | null = null;
  let checkpoints: Checkpoints | null = null;
  let releaseLock: (() => void) | null = null;
  let endpoint: HttpEndpoint | null = null;
  let timer: NodeJS.Timeout | null = null;
  let sweepTimer: NodeJS.Timeout | null = null;
  let accepting = false;
  let stopping = false;
  let lastSave = 0;
  const targets: Target[] = [];
  const loops = new Map<string, DeliveryLoop>();
  const watchers: SessionWatcher[] = [];
  const derived = new Map<FkEventType, number>();
  const counters = { deduplicated: 0, lateDropped: 0 };

  /** Dedupes by id (own outbox, then the shared claims) and makes the event durable. */
  function accept(event: FkEvent): void {
    if (!accepting || outbox === null) return;
    derived.set(event.type, (derived.get(event.type) ?? 0) + 1);
    if (outbox.has(event.id)) {
      counters.deduplicated++;
      return;
    }
    const perDaemon = event.type.startsWith('daemon.');
    const mine = targets.filter(
      (t) => matchesFilter(t.events, event.type) && (perDaemon || t.dedupeKey === null || claims?.claim(t.dedupeKey, event.id) !== 'theirs'),
    );
    const wanted = targets.filter((t) => matchesFilter(t.events, event.type)).length;
    if (mine.length < wanted) counters.deduplicated++;
    if (mine.length === 0) {
      if (wanted > 0) outbox.markSeen(event.id);
      return;
    }
    outbox.add(event, mine.map((t) => t.name));
    log.debug({ id: event.id, type: event.type, targets: mine.length }, 'event accepted');
    for (const t of mine) loops.get(t.name)?.kick();
    saveCheckpoints(false);
  }

  function saveCheckpoints(force: boolean): void {
    if (checkpoints === null) return;
    for (const w of watchers) if (w.caughtUp) checkpoints.set(w.key, w.watermark());
    const now = Date.now();
    if (!force && now - lastSave < 1000) return;
    lastSave = now;
    try {
      checkpoints.save();
    } catch (err) {
      log.warn({ err }, 'checkpoint write failed');
    }
  }

  function nextWakeAt(): Micros | null {
    let next: Micros | null = null;
    for (const w of watchers) {
      const t = w.nextWakeAt();
      if (t !== null && (next === null || t < next)) next = t;
    }
    return next;
  }

  function schedule(): void {
    if (!autoTick || stopping) return;
    if (timer) clearTimeout(timer);
    timer = null;
    const next = nextWakeAt();
    if (next === null) return;
    // Ceil: waking early would only re-arm; a transition never rings before its instant.
    const ms = Math.min(MAX_SLEEP_MS, Math.max(0, Math.ceil((next - clock.now()) / 1000)));
    timer = setTimeout(tick, ms);
  }

  function tick(): void {
    if (stopping) return;
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

  function ready(): boolean {
    return !stopping && watchers.length > 0 && watchers.every((w) => w.caughtUp && w.online);
  }

  function status(): DaemonStatus {
    return {
      daemon: { id, name: config.name, startedAt: formatInstant(startedAt), late: config.late, stopping },
      users: watchers.map((w) => w.status()),
      targets: describeTargets(config.targets).map((t) => {
        const l = loops.get(String(t.name));
        return { ...t, pending: outbox?.depth(String(t.name)) ?? 0, ...(l ? { ...l.stats } : {}) };
      }),
      outbox: { pending: outbox?.depth() ?? 0 },
    };
  }

  function metrics(): string {
    const per = (f: (l: DeliveryLoop) => number) => [...loops.values()].map((l) => ({ labels: { target: l.target.name }, value: f(l) }));
    const users = watchers.map((w) => ({ w, s: w.status() }));
    const families: MetricFamily[] = [
      { name: 'fk_daemon_events_delivered_total', help: 'Events confirmed by a target.', type: 'counter', samples: per((l) => l.stats.delivered) },
      { name: 'fk_daemon_events_failed_total', help: 'Failed delivery attempts (each retry counts).', type: 'counter', samples: per((l) => l.stats.failed) },
      { name: 'fk_daemon_events_dropped_total', help: 'Events given up after retry.maxAttempts.', type: 'counter', samples: per((l) => l.stats.dropped) },
      { name: 'fk_daemon_outbox_depth', help: 'Events waiting in the outbox for a target.', type: 'gauge', samples: per((l) => outbox?.depth(l.target.name) ?? 0) },
      { name: 'fk_daemon_outbox_pending', help: 'Distinct events waiting in the outbox.', type: 'gauge', samples: [{ value: outbox?.depth() ?? 0 }] },
      {
        name: 'fk_daemon_events_derived_total',
        help: 'Events derived from the history and the timer, by type.',
        type: 'counter',
        samples: [...derived].map(([type, value]) => ({ labels: { type }, value })),
      },
      { name: 'fk_daemon_events_deduplicated_total', help: 'Events not sent again: already in the outbox or claimed by another daemon.', type: 'counter', samples: [{ value: counters.deduplicated }] },
      { name: 'fk_daemon_events_late_dropped_total', help: 'Transitions that happened while no daemon ran, applied silently (late: drop).', type: 'counter', samples: [{ value: counters.lateDropped }] },
      { name: 'fk_daemon_sessions', help: 'Configured sessions (user and backend).', type: 'gauge', samples: [{ value: watchers.length }] },
      { name: 'fk_daemon_sessions_online', help: 'Sessions caught up and online.', type: 'gauge', samples: [{ value: watchers.filter((w) => w.caughtUp && w.online).length }] },
      { name: 'fk_daemon_session_online', help: 'Whether a session is caught up and online.', type: 'gauge', samples: users.map(({ w, s }) => ({ labels: { user: s.user, backend: s.backend }, value: w.caughtUp && w.online ? 1 : 0 })) },
      { name: 'fk_daemon_last_seq', help: 'Last history sequence number applied.', type: 'gauge', samples: users.map(({ s }) => ({ labels: { user: s.user, backend: s.backend }, value: s.lastSeq })) },
    ];
    return renderPrometheus(families);
  }

  return {
    get id() {
      return id;
    },
    get http() {
      return endpoint === null ? null : { host: endpoint.host, port: endpoint.port };
    },
    async start() {
      releaseLock = acquireLock(config.stateDir, config.name);
      try {
        id = daemonIdOf(config.stateDir, config.name);
        outbox = openOutbox(join(config.stateDir, 'outbox.jsonl'), {
          ttlMs: config.dedupeTtlMs,
          targets: config.targets.map((t) => t.name),
          logger: deps.logger,
        });
        claims = createClaimStore(config.dedupeDir, id, config.dedupeTtlMs, deps.logger);
        claims.sweep();
        sweepTimer = setInterval(() => {
          claims?.sweep();
          outbox?.compact();
        }, 3_600_000);
        sweepTimer.unref();
        checkpoints = openCheckpoints(config.stateDir);
        for (const t of config.targets) {
          const target = createTarget(t, deps.logger, deps.stdout);
          targets.push(target);
          loops.set(t.name, startDeliveryLoop(target, outbox, deps.logger));
        }
        log.info({ id, stateDir: config.stateDir, targets: describeTargets(config.targets), pending: outbox.depth(), late: config.late }, 'daemon starting');
        if (config.http !== null) {
          endpoint = await startHttpServer(
            config.http.host,
            config.http.port,
            { healthy: () => !stopping, ready: () => ({ ready: ready(), detail: watchers.map((w) => ({ user: w.config.user, caughtUp: w.caughtUp, online: w.online })) }), status, metrics },
            deps.logger,
          );
        }
        accepting = true;
        for (const u of config.users) {
          watchers.push(
            createSessionWatcher({
              config: u,
              open: deps.openSession ?? openSession,
              clock,
              logger: deps.logger,
              daemonId: id,
              late: config.late,
              watermark: checkpoints.get(watcherKey(u)),
              emit: accept,
              reschedule: schedule,
              onLateDropped: (n) => (counters.lateDropped += n),
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
    },
    tick,
    nextWakeAt,
    ready,
    status,
    metrics,
    async stop() {
      if (stopping) return;
      stopping = true;
      if (timer) clearTimeout(timer);
      if (sweepTimer) clearInterval(sweepTimer);
      timer = null;
      log.info({ pending: outbox?.depth() ?? 0 }, 'daemon stopping');
      for (const w of watchers) {
        if (w.caughtUp) accept(daemonEvent('daemon.offline', w.config.user, id, clock.now(), { reason: 'shutdown', readOnly: true }).event);
      }
      accepting = false;
      await endpoint?.close();
      const deadline = Date.now() + config.shutdownTimeoutMs;
      const drained = await Promise.all([...loops.values()].map((l) => l.drain(Math.max(0, deadline - Date.now()))));
      if (drained.some((d) => !d)) log.warn({ pending: outbox?.depth() ?? 0 }, 'outbox not drained; kept for the next start');
      saveCheckpoints(true);
      await Promise.all(watchers.map((w) => w.close().catch((err: unknown) => log.warn({ err, user: w.config.user }, 'session close failed'))));
      await Promise.all([...loops.values()].map((l) => l.stop(1000)));
      await Promise.all(targets.map((t) => t.close().catch((err: unknown) => log.warn({ err, target: t.name }, 'target close failed'))));
      outbox?.compact();
      outbox?.close();
      releaseLock?.();
      releaseLock = null;
      log.info({}, 'daemon stopped');
    },
  };
}
