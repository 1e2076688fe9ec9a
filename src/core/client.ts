import { backoffDelay } from './backoff';
import { nodeCrypto } from './nodeCrypto';
import { systemClock, type Clock, type Micros } from './clock';
import type { Cipher } from './crypto';
import { createCheckModel } from './engine/checkModel';
import { applyLine, createHistoryState, settleKey } from './engine/engine';
import type { EngineOptions, HistoryEncryption, LineOutcome } from './engine/engine';
import { DomainError, FkError, InputError, TransportError } from './errors';
import { silentLogger, type Logger } from './logger';
import type { StrategyName, StrategyRecord } from './engine/records';
import type { ReplayState } from './engine/replay';
import { formatRecord } from './engine/serializer';
import { viewAt } from './engine/view';
import type { Transport, TransportEntry, TransportStatus, Unsubscribe } from './transport';
import { createPublications, lostRace, type Outcome } from './publications';
import { createReplicaFollower, type CachedEntry, type ReplicaCache } from './replicaFollower';
import type { SnapshotStore } from './snapshots';

/** Waits after a lost race: 5 ms doubling to 250 ms, spread ±50 % so two writers fall out of step. */
const LOST_RACE_BACKOFF = { minMs: 5, maxMs: 250, jitter: 0.5 } as const;

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

export function createClient(opts: ClientOptions): Client {
  const clock = opts.clock ?? systemClock;
  const log = (opts.logger ?? silentLogger).child({ component: 'client' });
  const newId = opts.newId ?? ((): string => nodeCrypto().randomUUID());
  const maxRetries = opts.maxRetries ?? 10;
  const delay = opts.delay ?? (() => Promise.resolve());
  const required = opts.requireEncryption ?? opts.cipher !== undefined;
  const engine: EngineOptions = {
    policy: opts.sequencing ?? 'race',
    ...(opts.cipher ? { cipher: opts.cipher } : {}),
    ...(required && opts.cipher ? { encryption: opts.cipher.format } : {}),
  };
  const writes: HistoryEncryption = opts.cipher?.format ?? 'plain';
  const state = createHistoryState(clock.now());
  const actions = createPublications();
  /** What `execute` checks actions against: a copy kept in step with `state` (see checkModel.ts). */
  const checks = createCheckModel(state);
  let online = false;
  /** Position of the last entry delivered (what a snapshot of the model covers). */
  let position: string | null = null;
  let unsubscribe: Unsubscribe | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const replica = opts.cache ? createReplicaFollower(opts.cache, log) : null;

  const offStatus = opts.transport.onStatus((s) => {
    online = s.kind === 'online';
    log.info({ status: s.kind }, 'transport status');
  });

  const settle = (entry: TransportEntry, plain: string | null, o: Outcome): void => actions.settle(entry.id, plain, o);

  /** Applies one log entry through the record engine, at the current instant. */
  function apply(entry: TransportEntry): void {
    const wasValid = state.error === null;
    // Objects a record creates (pomodoros, interruptions) get the engine's own counter ids: they
    // are not part of the history, and replaying needs no random ids (nor node:crypto).
    const ctx = opts.newId ? { now: clock.now(), newId } : { now: clock.now() };
    const out: LineOutcome = applyLine(state, entry.line, engine, ctx);
    if (wasValid && state.error !== null) opts.onHistoryError?.(state.error);
    switch (out.kind) {
      case 'blank':
        return;
      case 'applied':
        if (state.counts.unauthentic > reported) logIgnored('unauthentic', null, null, 'FK_DECRYPT_FAILED');
        checks.followed(out.record, out.plain, ctx);
        log.debug({ seq: out.record.seq, name: out.record.name }, 'strategy applied');
        settle(entry, out.plain, { accepted: true });
        actions.taken(out.record.seq, out.plain);
        opts.onRecord?.(out.record, state);
        return;
      case 'lost-race':
        log.debug({ seq: out.record.seq }, 'record lost a race, ignored');
        settle(entry, out.plain, { accepted: false, error: lostRace(out.record.seq) });
        return;
      case 'skipped':
        if (out.reason === 'rejected') checks.discard(); // the strategy may have changed the live model half-way
        // Junk or a wrong key? Undecided until a record authenticates (`doubtful`): reported then.
        if (state.doubtful.length === 0) {
          logIgnored(out.reason, out.record?.seq ?? null, state.lineNumber, out.error.code);
        }
        settle(entry, out.plain, { accepted: false, error: out.error });
        return;
      case 'halted':
        if (wasValid) {
          checks.discard();
          const what = out.record === null ? 'history unreadable' : 'history invalid';
          log.debug({ code: out.error.code, line: state.lineNumber }, what);
        }
        settle(entry, out.plain, { accepted: false, error: out.error });
        return;
    }
  }

  /** Unauthentic records already logged (those decided junk only later are logged together). */
  let reported = 0;
  function logIgnored(reason: string, seq: number | null, line: number | null, code: string): void {
    const count = reason === 'unauthentic' ? state.counts.unauthentic - reported : 1;
    if (reason === 'unauthentic') reported = state.counts.unauthentic;
    // Never the message: it may quote the record.
    log.warn({ seq, line, reason, code, count }, 'record ignored');
  }

  function reset(): void {
    reported = 0;
    Object.assign(state, createHistoryState(clock.now()));
    checks.discard();
  }

  async function start(): Promise<void> {
    let from: string | null = null;
    const restored = opts.snapshots && !replica ? await opts.snapshots.load().catch(() => null) : null;
    if (restored) {
      Object.assign(state, restored.state);
      checks.discard();
      from = restored.position;
      position = from;
    }
    const restoredLines = state.lineNumber;
    if (replica) {
      const cached = await replica.load();
      // A snapshot of a prefix of the replica saves applying that prefix (brokers).
      const snap = opts.snapshots ? await opts.snapshots.load(cached).catch(() => null) : null;
      if (snap) {
        Object.assign(state, snap.state);
        checks.discard();
      }
      const skip = snap ? state.lineNumber : 0;
      for (let i = skip; i < cached.length; i++) apply(cached[i] as CachedEntry);
      if (state.error === null && opts.snapshots) {
        await opts.snapshots
          .save(state, '', cached.length - skip, cached)
          .catch((err: unknown) => log.warn({ err }, 'snapshot not saved'));
      }
      if (state.error !== null) {
        // Not necessarily the cache's fault (a wrong passphrase fails here first): rebuild from
        // the backend, which reports a real problem again, to the owner of the client.
        log.info({ code: state.error.code }, 'replica cache unusable, rebuilding from the backend');
        await replica.clear();
        reset();
      } else from = replica.resumeFrom();
    }
    await opts.transport.connect();
    online = true;
    const result = await follow(from);
    if (result === 'cache-mismatch') {
      log.info({}, 'replica cache does not match the backend, rebuilding from the backend');
      if (unsubscribe) await unsubscribe();
      unsubscribe = null;
      await replica?.clear();
      reset();
      await follow(null);
    }
    if (engine.policy === 'race' && state.error === null) {
      const wrongKey = settleKey(state);
      if (wrongKey !== null) opts.onHistoryError?.(wrongKey);
    }
    if (opts.snapshots && !replica && state.error === null && position !== null) {
      await opts.snapshots
        .save(state, position, state.lineNumber - restoredLines)
        .catch((err: unknown) => log.warn({ err }, 'snapshot not saved'));
    }
  }

  /** Subscribes from `from` and resolves once caught up (or once the cache proved stale). */
  async function follow(from: string | null): Promise<'ok' | 'cache-mismatch'> {
    let done!: (r: 'ok' | 'cache-mismatch') => void;
    const ready = new Promise<'ok' | 'cache-mismatch'>((resolve) => (done = resolve));
    let stale = false;
    unsubscribe = await opts.transport.subscribe(from, {
      onEntry: (entry) => {
        if (stale) return;
        position = entry.position;
        const take = replica ? replica.offer(entry) : 'apply';
        if (take === 'mismatch') {
          stale = true;
          done('cache-mismatch');
        } else if (take === 'apply') apply(entry);
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

  function view(now?: Micros): ReplayState {
    return viewAt(state, opts.user, now ?? clock.now());
  }

  /** Refuses to write to an invalid history, a history of another encryption, or offline. */
  function assertWritable(): void {
    if (state.error !== null) {
      const message = `the history is invalid, refusing to append: ${state.error.message}`;
      throw new DomainError('FK_HISTORY_INVALID', message, { cause: state.error });
    }
    if (state.encryption !== null && state.encryption !== writes) {
      // One rule for every command: a history is plain or encrypted as a whole, never mixed.
      throw new InputError(
        'FK_CONFIG_INVALID',
        `the history is ${describe(state.encryption)} and this client writes ${describe(writes)} records: ` +
          'refusing to mix them ' +
          (writes === 'plain'
            ? '(set the passphrase)'
            : "(use --encryption off, or encrypt the whole history with 'fk encrypt')"),
      );
    }
    if (!online)
      throw new TransportError('FK_READ_ONLY', 'the backend is offline: read-only until it reconnects', {
        retryable: true,
      });
  }

  async function attempt(
    name: StrategyName,
    params: readonly string[],
    user: string,
  ): Promise<Outcome & { record: StrategyRecord }> {
    assertWritable();
    const record: StrategyRecord = {
      seq: state.started ? state.lastSeq + 1 : 1,
      when: clock.now(),
      user,
      name,
      params,
    };
    const plain = formatRecord(record);
    checks.check(record, plain, { now: record.when, newId });
    const stored = opts.cipher ? opts.cipher.encryptLine(plain, { seq: record.seq, user: record.user }) : plain;
    const id = newId();
    const outcome = actions.expect(id, plain, record.seq);
    try {
      await opts.transport.publish(stored, { id, seq: record.seq });
    } catch (err) {
      actions.forget(id, plain, record.seq);
      // A backend that can refuse an append (the file) says so up front: same as a lost race.
      if (err instanceof FkError && err.code === 'FK_SEQUENCE_CONFLICT') return { accepted: false, error: err, record };
      throw err;
    }
    const o = await outcome;
    actions.forget(id, plain, record.seq);
    return { ...o, record };
  }

  async function execute(
    name: StrategyName,
    params: readonly string[],
    as: { readonly user?: string } = {},
  ): Promise<StrategyRecord> {
    const run = async (): Promise<StrategyRecord> => {
      for (let i = 0; ; i++) {
        const r = await attempt(name, params, as.user ?? opts.user);
        if (r.accepted) {
          await replica?.flush();
          return r.record;
        }
        if (r.error.code !== 'FK_SEQUENCE_CONFLICT' || i >= maxRetries) throw r.error;
        const waitMs = backoffDelay(i + 1, LOST_RACE_BACKOFF);
        log.info({ seq: r.record.seq, attempt: i + 1, waitMs }, 'lost a race, re-checking and retrying');
        await delay(waitMs);
      }
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  }

  async function publishCopy(plain: string, record: StrategyRecord): Promise<void> {
    assertWritable();
    const stored = opts.cipher ? opts.cipher.encryptLine(plain, { seq: record.seq, user: record.user }) : plain;
    await opts.transport.publish(stored, { id: newId(), seq: record.seq });
  }

  return {
    start,
    state,
    view,
    execute,
    publishCopy,
    get historyError() {
      return state.error;
    },
    get online() {
      return online;
    },
    onStatus: (l) => opts.transport.onStatus(l),
    async close() {
      offStatus();
      await replica?.flush();
      if (unsubscribe) await unsubscribe();
      await opts.transport.close();
    },
  };
}

function describe(e: HistoryEncryption): string {
  return e === 'plain' ? 'plaintext' : `${e}-encrypted`;
}
