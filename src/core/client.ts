import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from './clock';
import { encryptedFormatOf, type Cipher } from './crypto';
import { createCheckModel } from './engine/checkModel';
import { CryptoError, DomainError, FkError, TransportError } from './errors';
import { silentLogger, type Logger } from './logger';
import type { StrategyName, StrategyRecord } from './engine/records';
import { assertNextSeq, createReplayState, executeRecord, type ReplayState } from './engine/replay';
import { formatRecord, parseLine } from './engine/serializer';
import { sealTimer } from './engine/strategies/timerTransitions';
import type { Transport, TransportEntry, TransportStatus, Unsubscribe } from './transport';

/**
 * How a client orders records it reads from a backend.
 * - `strict`: Flowkeeper's own rule for its data file: any gap, duplicate or out-of-order sequence
 *   makes the history invalid; the client stops and refuses to append.
 * - `race`: for brokers, which order but cannot "append only if unchanged". A record whose
 *   sequence is not above the last accepted one lost a race and is ignored, identically by every
 *   client; a record whose rule check fails is ignored too. A gap is still an error.
 */
export type Sequencing = 'strict' | 'race';

/** Local replica of the accepted log, so a restart does not download everything again. */
export interface ReplicaCache {
  load(): Promise<{ position: string | null; lines: string[] } | null>;
  append(lines: readonly string[], position: string): Promise<void>;
  clear(): Promise<void>;
}

export interface ClientOptions {
  readonly transport: Transport;
  /** Identity written into the records this client creates. */
  readonly user: string;
  /** Encrypts what we publish and decrypts what we read; omit for a plaintext history. */
  readonly cipher?: Cipher;
  /** Reject plaintext records (a history that is meant to be encrypted). @default !!cipher */
  readonly requireEncryption?: boolean;
  /** @default 'race' */
  readonly sequencing?: Sequencing;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly cache?: ReplicaCache;
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

/** What happened to a record this client published. */
type Outcome = { readonly accepted: true } | { readonly accepted: false; readonly error: FkError };

export interface Client {
  /** Connects and catches up with the whole log (or the cached replica plus what is new). */
  start(): Promise<void>;
  /** The live model; sealed up to `clock.now()` when read through `stateNow()`. */
  readonly state: ReplayState;
  /** Seals the user's timer at the current time and returns the live model. */
  stateNow(): ReplayState;
  /**
   * Checks an action against the current state, publishes it and resolves once it is seen
   * accepted in the log (read-your-writes). Retries after a lost race; throws `DomainError`
   * for a rejected rule, `TransportError FK_READ_ONLY` while offline.
   */
  execute(name: StrategyName, params: readonly string[], as?: { readonly user?: string }): Promise<StrategyRecord>;
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
  const sequencing = opts.sequencing ?? 'race';
  const requireEncryption = opts.requireEncryption ?? opts.cipher !== undefined;
  const newId = opts.newId ?? randomUUID;
  const maxRetries = opts.maxRetries ?? 10;
  const delay = opts.delay ?? (() => Promise.resolve());
  const state = createReplayState(clock.now());
  const pending = new Map<string, { line: string; seq: number; settle: (o: Outcome) => void }>();
  const replayOpts = { now: clock.now(), mode: 'strict' as const };
  /** What `execute` checks actions against: a copy kept in step with `state` (see checkModel.ts). */
  const checks = createCheckModel(state, replayOpts);
  let historyError: FkError | null = null;
  let online = false;
  let position: string | null = null;
  let unsubscribe: Unsubscribe | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let caughtUp: (() => void) | null = null;
  let cacheBuffer: string[] = [];
  let lineNumber = 0;

  const offStatus = opts.transport.onStatus((s) => {
    online = s.kind === 'online';
    log.info({ status: s.kind }, 'transport status');
  });

  function settle(entry: TransportEntry, plain: string, outcome: Outcome): void {
    const key = entry.id ?? plain;
    const p = pending.get(key);
    if (p) {
      pending.delete(key);
      p.settle(outcome);
    }
  }

  function decrypt(entry: TransportEntry): string {
    const format = encryptedFormatOf(entry.line);
    if (format === null) {
      if (requireEncryption && parseLine(entry.line, lineNumber).kind === 'record') {
        throw new CryptoError('FK_DECRYPT_FAILED', `line ${lineNumber}: plaintext record in an encrypted history`, {
          lineNumber,
        });
      }
      return entry.line;
    }
    if (!opts.cipher) {
      throw new CryptoError('FK_KEY_INVALID', `line ${lineNumber}: the history is encrypted and no passphrase was given`, {
        lineNumber,
      });
    }
    return opts.cipher.decryptLine(entry.line, { lineNumber });
  }

  /** Applies one log entry. Returns the plain line when it was accepted. */
  function apply(entry: TransportEntry): void {
    lineNumber++;
    if (historyError !== null) return;
    let plain: string;
    let record: StrategyRecord;
    try {
      plain = decrypt(entry);
      const parsed = parseLine(plain, lineNumber, { decrypted: plain !== entry.line });
      if (parsed.kind === 'empty') return;
      record = parsed.record;
    } catch (err) {
      historyError = err instanceof FkError ? err : new DomainError('FK_HISTORY_INVALID', String(err), { cause: err });
      log.debug({ err: historyError, line: lineNumber }, 'history unreadable');
      return;
    }
    if (sequencing === 'race' && state.started && record.seq <= state.lastSeq) {
      log.debug({ seq: record.seq }, 'record lost a race, ignored');
      settle(entry, plain, {
        accepted: false,
        error: new DomainError('FK_SEQUENCE_CONFLICT', `sequence ${record.seq} was taken by another client`, { seq: record.seq }),
      });
      return;
    }
    try {
      assertNextSeq(state, record, lineNumber);
    } catch (err) {
      historyError = err as FkError;
      log.debug({ err, seq: record.seq }, 'history sequence broken');
      settle(entry, plain, { accepted: false, error: historyError });
      return;
    }
    try {
      executeRecord(state, record, replayOpts);
    } catch (err) {
      const e = err instanceof FkError ? err : new DomainError('FK_ILLEGAL_STATE', String(err), { cause: err });
      checks.discard(); // the strategy may have changed the live model half-way
      if (sequencing === 'strict') {
        historyError = e;
        log.debug({ err: e, seq: record.seq }, 'history rule broken');
      } else log.warn({ err: e, seq: record.seq }, 'record rejected by rule, ignored');
      settle(entry, plain, { accepted: false, error: e });
      return;
    }
    state.lastSeq = state.started ? record.seq : 1;
    state.started = true;
    state.lastUser = record.user;
    checks.followed(record, plain);
    log.debug({ seq: record.seq, name: record.name }, 'strategy applied');
    settle(entry, plain, { accepted: true });
    opts.onRecord?.(record, state);
  }

  function onEntry(entry: TransportEntry): void {
    const wasValid = historyError === null;
    apply(entry);
    if (wasValid && historyError !== null) opts.onHistoryError?.(historyError);
    position = entry.position;
    if (opts.cache) cacheBuffer.push(entry.line);
  }

  async function flushCache(): Promise<void> {
    if (!opts.cache || cacheBuffer.length === 0 || position === null) return;
    const lines = cacheBuffer;
    cacheBuffer = [];
    await opts.cache.append(lines, position);
  }

  async function start(): Promise<void> {
    if (opts.cache) {
      const cached = await opts.cache.load();
      if (cached) {
        for (const line of cached.lines) apply({ line, position: '' });
        if (historyError === null) position = cached.position;
        else {
          // Not necessarily the cache's fault (a wrong passphrase fails here first): rebuild from
          // the backend, which reports a real problem again, to the owner of the client.
          log.info({ code: historyError.code }, 'replica cache unusable, rebuilding from the backend');
          await opts.cache.clear();
          return restartFromScratch();
        }
      }
    }
    await opts.transport.connect();
    online = true;
    const ready = new Promise<void>((resolve) => {
      caughtUp = resolve;
    });
    unsubscribe = await opts.transport.subscribe(position, {
      onEntry,
      onCaughtUp: () => {
        flushCache().catch((err: unknown) => log.warn({ err }, 'replica cache write failed'));
        caughtUp?.();
        caughtUp = null;
      },
    });
    await ready;
  }

  async function restartFromScratch(): Promise<void> {
    const fresh = createReplayState(clock.now());
    Object.assign(state, { ...fresh, skipped: state.skipped });
    (state as { tenant: unknown }).tenant = fresh.tenant;
    historyError = null;
    lineNumber = 0;
    position = null;
    checks.discard();
    return start();
  }

  function stateNow(): ReplayState {
    const user = state.tenant.users.get(opts.user);
    if (user) {
      const now = clock.now();
      sealTimer(user, now);
      checks.sealed(opts.user, now);
    }
    return state;
  }

  async function attempt(name: StrategyName, params: readonly string[], user: string): Promise<Outcome & { record: StrategyRecord }> {
    if (historyError !== null) {
      throw new DomainError('FK_HISTORY_INVALID', `the history is invalid, refusing to append: ${historyError.message}`, {
        cause: historyError,
      });
    }
    if (!online) throw new TransportError('FK_READ_ONLY', 'the backend is offline: read-only until it reconnects', { retryable: true });
    const record: StrategyRecord = { seq: state.started ? state.lastSeq + 1 : 1, when: clock.now(), user, name, params };
    const plain = formatRecord(record);
    checks.check(record, plain);
    const stored = opts.cipher ? opts.cipher.encryptLine(plain, { seq: record.seq, user: record.user }) : plain;
    const id = newId();
    const outcome = new Promise<Outcome>((resolve) => {
      pending.set(id, { line: plain, seq: record.seq, settle: resolve });
      pending.set(plain, { line: plain, seq: record.seq, settle: resolve });
    });
    try {
      await opts.transport.publish(stored, { id, seq: record.seq });
    } catch (err) {
      pending.delete(id);
      pending.delete(plain);
      // A backend that can refuse an append (the file) says so up front: same as a lost race.
      if (err instanceof FkError && err.code === 'FK_SEQUENCE_CONFLICT') return { accepted: false, error: err, record };
      throw err;
    }
    const o = await outcome;
    pending.delete(id);
    pending.delete(plain);
    return { ...o, record };
  }

  async function execute(name: StrategyName, params: readonly string[], as: { readonly user?: string } = {}): Promise<StrategyRecord> {
    const run = async (): Promise<StrategyRecord> => {
      for (let i = 0; ; i++) {
        const r = await attempt(name, params, as.user ?? opts.user);
        if (r.accepted) {
          await flushCache();
          return r.record;
        }
        if (r.error.code !== 'FK_SEQUENCE_CONFLICT' || i >= maxRetries) throw r.error;
        const waitMs = Math.round(Math.min(250, 5 * 2 ** i) * (0.5 + Math.random() / 2));
        log.info({ seq: r.record.seq, attempt: i + 1, waitMs }, 'lost a race, re-checking and retrying');
        await delay(waitMs);
      }
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  }

  return {
    start,
    state,
    stateNow,
    execute,
    get historyError() {
      return historyError;
    },
    get online() {
      return online;
    },
    onStatus: (l) => opts.transport.onStatus(l),
    async close() {
      offStatus();
      await flushCache().catch(() => undefined);
      if (unsubscribe) await unsubscribe();
      await opts.transport.close();
    },
  };
}
