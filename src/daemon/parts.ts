import type { Clock, Micros } from '../core/clock';
import type { Logger } from '../core/logger';
import { openSession } from '../app/session';
import { createAcceptor, type Acceptor } from './acceptor';
import { startDeliveryLoop, type DeliveryLoop } from './delivery';
import type { HttpEndpoint } from './httpServer';
import type { DaemonConfig } from './options';
import type { ReportSources } from './report';
import { createSessionWatcher, watcherKey, type OpenSession, type SessionWatcher } from './sessionWatcher';
import { openDaemonState, type DaemonState } from './stateFiles';
import { createTarget, type Target } from './targets';
import type { Timers } from './timers';

/** What the parts share: configuration, time, logs. */
export interface PartsContext {
  readonly config: DaemonConfig;
  readonly clock: Clock;
  readonly timers: Timers;
  /** The root logger (components add their own bindings). */
  readonly logger: Logger;
  readonly openSession?: OpenSession;
  readonly stdout?: NodeJS.WritableStream;
  /** A session's next wake-up may have changed. */
  readonly reschedule: () => void;
}

/** Everything a running daemon holds, by name. */
export interface DaemonParts {
  /** State directory: lock, id, outbox, claims, checkpoints. */
  readonly state: DaemonState;
  /** Between watchers and deliveries: dedupe, claims, durable outbox. */
  readonly acceptor: Acceptor;
  readonly targets: readonly Target[];
  /** One delivery loop per target, by target name. */
  readonly loops: ReadonlyMap<string, DeliveryLoop>;
  /** One per configured user and backend (not started yet). */
  readonly watchers: readonly SessionWatcher[];
  endpoint: HttpEndpoint | null;
  /** Transitions applied silently since start (late: drop). */
  lateDropped: number;
  /** Persists every caught-up session's checkpoint (at most once a second unless forced). */
  saveCheckpoints(force: boolean): void;
  /** The earliest wake-up any session needs, or null. */
  nextWakeAt(): Micros | null;
}

/** Opens the state directory and builds the targets, deliveries, acceptor and session watchers. */
export function openParts(ctx: PartsContext): DaemonParts {
  const { config, logger } = ctx;
  const log = logger.child({ component: 'daemon', daemon: config.name });
  const state = openDaemonState(config, logger);
  const targets: Target[] = [];
  const loops = new Map<string, DeliveryLoop>();
  let lastSave = 0;
  const parts: DaemonParts = {
    state,
    acceptor: createAcceptor({
      outbox: state.outbox,
      claims: state.claims,
      targets,
      kick: (name) => loops.get(name)?.kick(),
      onAccepted: () => parts.saveCheckpoints(false),
      logger: log,
    }),
    targets,
    loops,
    watchers: config.users.map((u) =>
      createSessionWatcher({
        config: u,
        open: ctx.openSession ?? openSession,
        clock: ctx.clock,
        timers: ctx.timers,
        logger,
        daemonId: state.id,
        late: config.late,
        checkpoint: state.checkpoints.get(watcherKey(u)),
        emit: (e) => parts.acceptor.accept(e),
        reschedule: ctx.reschedule,
        onLateDropped: (n) => (parts.lateDropped += n),
      }),
    ),
    endpoint: null,
    lateDropped: 0,
    saveCheckpoints(force) {
      for (const w of parts.watchers) if (w.caughtUp) state.checkpoints.set(w.key, w.watermark());
      if (!force && Date.now() - lastSave < 1000) return;
      lastSave = Date.now();
      try {
        state.checkpoints.save();
      } catch (err) {
        log.warn({ err }, 'checkpoint write failed');
      }
    },
    nextWakeAt: () =>
      parts.watchers.reduce<Micros | null>((next, w) => {
        const t = w.nextWakeAt();
        return t !== null && (next === null || t < next) ? t : next;
      }, null),
  };
  try {
    for (const t of config.targets) {
      const target = createTarget(t, logger, ctx.stdout);
      targets.push(target);
      loops.set(t.name, startDeliveryLoop(target, state.outbox, logger, { timers: ctx.timers }));
    }
  } catch (err) {
    clearInterval(state.sweep);
    state.outbox.close();
    state.release();
    throw err;
  }
  return parts;
}

/** What the reports read from the parts (before start, everything is empty). */
export function reportSources(
  ctx: Pick<PartsContext, 'config'>,
  parts: DaemonParts | null,
  run: { startedAt: Micros; stopping: boolean },
): ReportSources {
  return {
    config: ctx.config,
    id: parts?.state.id ?? '',
    startedAt: run.startedAt,
    stopping: run.stopping,
    watchers: parts?.watchers ?? [],
    loops: parts?.loops ?? new Map(),
    outbox: parts?.state.outbox ?? null,
    accepted: parts?.acceptor.stats ?? null,
    lateDropped: parts?.lateDropped ?? 0,
  };
}
