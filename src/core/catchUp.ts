import type { ConnectionStatus } from './connectionStatus';
import type { CheckModel } from './engine/checkModel';
import { settleKey, type HistoryState, type Policy } from './engine/engine';
import type { FkError } from './errors';
import type { LogApplier } from './logApplier';
import type { Logger } from './logger';
import type { CachedEntry, ReplicaFollower } from './replicaFollower';
import type { SnapshotStore, StateSnapshot } from './snapshots';
import type { Transport, Unsubscribe } from './transport';

/** What a client's start sequence reads from and writes to (see `createCatchUp`). */
export interface CatchUpDeps {
  readonly transport: Transport;
  /** The live model, changed in place. */
  readonly state: HistoryState;
  readonly policy: Policy;
  readonly checks: CheckModel;
  readonly applier: LogApplier;
  readonly connection: ConnectionStatus;
  /** The local replica of a broker log, if the client keeps one. */
  readonly replica: ReplicaFollower | null;
  readonly snapshots: SnapshotStore | undefined;
  readonly log: Logger;
  readonly onHistoryError: ((error: FkError) => void) | undefined;
}

/**
 * @internal
 * A client's start: restore what it can locally (a verified snapshot, or the replica plus a
 * snapshot of a prefix of it), connect, subscribe after what was restored and wait until caught
 * up; rebuild from the backend when the replica turns out to hold another log; then save a new
 * snapshot. The subscription lives on until `stop`.
 */
export interface CatchUp {
  /** Connects and catches up with the whole log (or the cached replica plus what is new). */
  start(): Promise<void>;
  /** Ends the subscription, if there is one. */
  stop(): Promise<void>;
}

type Followed = 'ok' | 'cache-mismatch';

export function createCatchUp(deps: CatchUpDeps): CatchUp {
  const { transport, state, checks, applier, replica, snapshots, log } = deps;
  /** Position of the last entry delivered (what a snapshot of the model covers). */
  let position: string | null = null;
  let unsubscribe: Unsubscribe | null = null;

  /** A snapshot's model replaces the live one (the check copy goes with the old one). */
  function restore(snapshot: StateSnapshot): void {
    Object.assign(state, snapshot.state);
    checks.rebase(snapshot.fork);
  }

  /** Restores a replica (and a snapshot of a prefix of it); the position to subscribe from. */
  async function restoreReplica(r: ReplicaFollower, from: string | null): Promise<string | null> {
    const cached = await r.load();
    // A snapshot of a prefix of the replica saves applying that prefix (brokers).
    const snap = snapshots ? await snapshots.load(cached).catch(() => null) : null;
    if (snap) restore(snap);
    const skip = snap ? state.lineNumber : 0;
    for (let i = skip; i < cached.length; i++) applier.apply(cached[i] as CachedEntry);
    if (state.error === null && snapshots) {
      await snapshots
        .save(state, '', cached.length - skip, cached)
        .catch((err: unknown) => log.warn({ err }, 'snapshot not saved'));
    }
    if (state.error !== null) {
      // Not necessarily the cache's fault (a wrong passphrase fails here first): rebuild from
      // the backend, which reports a real problem again, to the owner of the client.
      log.info({ code: state.error.code }, 'replica cache unusable, rebuilding from the backend');
      await r.clear();
      applier.reset();
      return from;
    }
    return r.resumeFrom();
  }

  async function start(): Promise<void> {
    let from: string | null = null;
    const restored = snapshots && !replica ? await snapshots.load().catch(() => null) : null;
    if (restored) {
      restore(restored);
      from = restored.position;
      position = from;
    }
    const restoredLines = state.lineNumber;
    if (replica) from = await restoreReplica(replica, from);
    await transport.connect();
    deps.connection.connected();
    const result = await follow(from);
    if (result === 'cache-mismatch') {
      log.info({}, 'replica cache does not match the backend, rebuilding from the backend');
      if (unsubscribe) await unsubscribe();
      unsubscribe = null;
      await replica?.clear();
      applier.reset();
      await follow(null);
    }
    if (deps.policy === 'race' && state.error === null) {
      const wrongKey = settleKey(state);
      if (wrongKey !== null) deps.onHistoryError?.(wrongKey);
    }
    if (snapshots && !replica && state.error === null && position !== null) {
      await snapshots
        .save(state, position, state.lineNumber - restoredLines)
        .catch((err: unknown) => log.warn({ err }, 'snapshot not saved'));
    }
  }

  /** Subscribes from `from` and resolves once caught up (or once the cache proved stale). */
  async function follow(from: string | null): Promise<Followed> {
    let done!: (r: Followed) => void;
    const ready = new Promise<Followed>((resolve) => (done = resolve));
    let stale = false;
    unsubscribe = await transport.subscribe(from, {
      onEntry: (entry) => {
        if (stale) return;
        position = entry.position;
        const take = replica ? replica.offer(entry) : 'apply';
        if (take === 'mismatch') {
          stale = true;
          done('cache-mismatch');
        } else if (take === 'apply') applier.apply(entry);
      },
      onCaughtUp: () => {
        if (stale) return;
        if (replica?.verifying()) {
          stale = true; // the backend holds fewer entries than the cache: another log now
          done('cache-mismatch');
          return;
        }
        void replica?.flush();
        done('ok');
      },
    });
    return ready;
  }

  return {
    start,
    async stop() {
      if (unsubscribe) await unsubscribe();
    },
  };
}
