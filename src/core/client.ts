import type * as ActionWriterModule from './actionWriter';
import { createCatchUp } from './catchUp';
import { systemClock, type Clock, type Micros } from './clock';
import { trackConnection } from './connectionStatus';
import type { Cipher } from './crypto';
import { createCheckModel } from './engine/checkModel';
import { createHistoryState, type EngineOptions } from './engine/engine';
import type { FkError } from './errors';
import { createLogApplier } from './logApplier';
import { silentLogger, type Logger } from './logger';
import { nodeCrypto } from './nodeCrypto';
import type { StrategyName, StrategyRecord } from './engine/records';
import type { ReplayState } from './engine/replay';
import { viewAt } from './engine/view';
import type { Transport, TransportStatus } from './transport';
import { createPublications } from './publications';
import type * as ReplicaFollowerModule from './replicaFollower';
import type { ReplicaCache } from './replicaFollower';
import type { SnapshotStore } from './snapshots';

export type { CachedEntry, ReplicaCache } from './replicaFollower';

/**
 * How a client orders records it reads from a backend (the record engine's policies):
 * - `strict`: Flowkeeper's own rule for its data file: any gap, duplicate or out-of-order sequence
 *   makes the history invalid; the client stops and refuses to append.
 * - `race`: for brokers, which order but cannot "append only if unchanged". A record whose
 *   sequence is not above the last accepted one lost a race and is ignored, identically by every
 *   client; a record whose rule check fails, or that fails authentication, is ignored too. A gap
 *   is still an error.
 */
export type Sequencing = 'strict' | 'race';

export interface ClientOptions {
  readonly transport: Transport;
  /** Identity written into the records this client creates. */
  readonly user: string;
  /** Encrypts what we publish and decrypts what we read; omit for a plaintext history. */
  readonly cipher?: Cipher;
  /** The history must be encrypted in the cipher's format (else its first record decides). @default !!cipher */
  readonly requireEncryption?: boolean;
  /** @default 'race' */
  readonly sequencing?: Sequencing;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly cache?: ReplicaCache;
  /** Verified model snapshots (files, broker replicas): start from the latest, replay only what is newer. */
  readonly snapshots?: SnapshotStore;
  /** How often an action is re-checked and re-sent after losing a race. @default 10 */
  readonly maxRetries?: number;
  /**
   * Waits between retries after a lost race (jittered exponential backoff, 5 ms to 250 ms), so
   * that two busy writers do not keep colliding. Core has no timers: the composition root passes
   * one. @default no wait
   */
  readonly delay?: (ms: number) => Promise<void>;
  /** Called after every accepted record (the daemon derives notifications from it). */
  readonly onRecord?: (record: StrategyRecord, state: ReplayState) => void;
  /** Called once when a log entry makes the history unusable (`historyError` is set). */
  readonly onHistoryError?: (error: FkError) => void;
  /** Ids for records and non-persisted objects. @default randomUUID */
  readonly newId?: () => string;
}

export interface Client {
  /** Connects and catches up with the whole log (or the cached replica plus what is new). */
  start(): Promise<void>;
  /**
   * The live model. It changes only by records read from the log, each applied at its own
   * timestamp, never by the clock. Ignored records are in `state.counts` and `state.skipped`
   * (`reason`: `rejected`, `unauthentic`, `unreadable`): the daemon's `/status` and metrics read them.
   */
  readonly state: ReplayState;
  /**
   * The model as it looks at `now` (default: the clock) for this client's user: the live model
   * with the user's due timer transitions rung on a copy (`engine/view.ts`). Never changes the
   * live model; read-only (it may be the live model itself when nothing is due).
   */
  view(now?: Micros): ReplayState;
  /**
   * Checks an action against the current state, publishes it and resolves once it is seen
   * accepted in the log (read-your-writes). Retries after a lost race; throws `DomainError`
   * for a rejected rule, `TransportError FK_READ_ONLY` while offline.
   */
  execute(name: StrategyName, params: readonly string[], as?: { readonly user?: string }): Promise<StrategyRecord>;
  /**
   * Publishes a record copied from another history (`fk mirror`), as it is: its own plain line,
   * seq, time and user. Not checked against the model and not awaited in the log: the caller
   * checked it against an identical model and reads the log to see it accepted (`onRecord`).
   * Resolves once the backend stored it; refuses like `execute` on an invalid history, a history
   * of another encryption, or offline (`FK_READ_ONLY`).
   */
  publishCopy(plain: string, record: StrategyRecord): Promise<void>;
  /**
   * The first history error met, after which the client is read-only. Not logged here: whoever
   * owns the client (CLI, daemon) reports it once.
   */
  readonly historyError: FkError | null;
  readonly online: boolean;
  onStatus(listener: (s: TransportStatus) => void): () => void;
  close(): Promise<void>;
}

/**
 * The one stateful module: the live model of one history, read through a transport and written
 * through it. A composition of four parts: the connection status (`connectionStatus.ts`), the
 * log applier that turns entries into the model (`logApplier.ts`), the start sequence that
 * restores, subscribes and catches up (`catchUp.ts`), and the action writer that checks,
 * publishes and retries (`actionWriter.ts`).
 */
export function createClient(opts: ClientOptions): Client {
  const clock = opts.clock ?? systemClock;
  const log = (opts.logger ?? silentLogger).child({ component: 'client' });
  const newId = opts.newId ?? ((): string => nodeCrypto().randomUUID());
  const required = opts.requireEncryption ?? opts.cipher !== undefined;
  const engine: EngineOptions = {
    policy: opts.sequencing ?? 'race',
    ...(opts.cipher ? { cipher: opts.cipher } : {}),
    ...(required && opts.cipher ? { encryption: opts.cipher.format } : {}),
  };
  const state = createHistoryState(clock.now());
  const actions = createPublications();
  /** What `execute` checks actions against: a copy kept in step with `state` (see checkModel.ts). */
  const checks = createCheckModel(state);
  // loaded for a broker's replica only: a file is its own
  const replica = opts.cache
    ? (require('./replicaFollower') as typeof ReplicaFollowerModule).createReplicaFollower(opts.cache, log)
    : null;
  const connection = trackConnection(opts.transport, log);
  const applier = createLogApplier({
    state,
    engine,
    clock,
    log,
    checks,
    actions,
    newId: opts.newId,
    onRecord: opts.onRecord,
    onHistoryError: opts.onHistoryError,
  });
  const catchUp = createCatchUp({
    transport: opts.transport,
    state,
    policy: engine.policy,
    checks,
    applier,
    connection,
    replica,
    snapshots: opts.snapshots,
    log,
    onHistoryError: opts.onHistoryError,
  });
  let writer: ActionWriterModule.ActionWriter | undefined;
  /** The action writer, made on the first write: a client that only reads never loads it. */
  const writerOf = (): ActionWriterModule.ActionWriter =>
    (writer ??= (require('./actionWriter') as typeof ActionWriterModule).createActionWriter({
      transport: opts.transport,
      state,
      checks,
      actions,
      connection,
      replica,
      cipher: opts.cipher,
      writes: opts.cipher?.format ?? 'plain',
      user: opts.user,
      clock,
      newId,
      maxRetries: opts.maxRetries ?? 10,
      delay: opts.delay ?? (() => Promise.resolve()),
      log,
    }));

  return {
    start: catchUp.start,
    state,
    view: (now?: Micros): ReplayState => viewAt(state, opts.user, now ?? clock.now()),
    execute: (...args) => writerOf().execute(...args),
    publishCopy: (...args) => writerOf().publishCopy(...args),
    get historyError() {
      return state.error;
    },
    get online() {
      return connection.online;
    },
    onStatus: (l) => opts.transport.onStatus(l),
    async close() {
      connection.stop();
      await replica?.flush();
      await catchUp.stop();
      await opts.transport.close();
    },
  };
}
