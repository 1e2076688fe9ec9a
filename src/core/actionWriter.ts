import { backoffDelay } from './backoff';
import type { Clock } from './clock';
import type { ConnectionStatus } from './connectionStatus';
import type { Cipher } from './crypto';
import type { CheckModel } from './engine/checkModel';
import type { HistoryEncryption, HistoryState } from './engine/engine';
import type { StrategyName, StrategyRecord } from './engine/records';
import { formatRecord } from './engine/serializer';
import { DomainError, FkError, InputError, TransportError } from './errors';
import type { Logger } from './logger';
import type { Publications, Outcome } from './publications';
import type { ReplicaFollower } from './replicaFollower';
import type { Transport } from './transport';

/** Waits after a lost race: 5 ms doubling to 250 ms, spread ±50 % so two writers fall out of step. */
const LOST_RACE_BACKOFF = { minMs: 5, maxMs: 250, jitter: 0.5 } as const;

/** What a client's writing side needs (see `createActionWriter`). */
export interface ActionWriterDeps {
  readonly transport: Transport;
  /** The live model: what the next seq follows and whether the history can take a record. */
  readonly state: HistoryState;
  /** The copy an action is checked against before it is published. */
  readonly checks: CheckModel;
  /** The client's actions in flight, settled by the log applier. */
  readonly actions: Publications;
  readonly connection: ConnectionStatus;
  readonly replica: ReplicaFollower | null;
  readonly cipher: Cipher | undefined;
  /** The encryption of the records this client writes. */
  readonly writes: HistoryEncryption;
  /** The default identity of the records. */
  readonly user: string;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly maxRetries: number;
  readonly delay: (ms: number) => Promise<void>;
  readonly log: Logger;
}

/**
 * @internal
 * A client's writing side: one action at a time, each checked against the model, published and
 * awaited in the log (read-your-writes), and re-checked and re-sent after a lost race.
 */
export interface ActionWriter {
  /** `Client.execute`. */
  execute(name: StrategyName, params: readonly string[], as?: { readonly user?: string }): Promise<StrategyRecord>;
  /** `Client.publishCopy`. */
  publishCopy(plain: string, record: StrategyRecord): Promise<void>;
}

export function createActionWriter(deps: ActionWriterDeps): ActionWriter {
  const { transport, state, checks, actions, cipher, writes, clock, newId, log } = deps;
  let queue: Promise<unknown> = Promise.resolve();

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
    if (!deps.connection.online)
      throw new TransportError('FK_READ_ONLY', 'the backend is offline: read-only until it reconnects', {
        retryable: true,
      });
  }

  /** The line as stored: encrypted when the client has a cipher. */
  const stored = (plain: string, record: StrategyRecord): string =>
    cipher ? cipher.encryptLine(plain, { seq: record.seq, user: record.user }) : plain;

  /** One try: check, publish, and wait for the record's fate in the log. */
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
    const line = stored(plain, record);
    const id = newId();
    const outcome = actions.expect(id, plain, record.seq);
    try {
      await transport.publish(line, { id, seq: record.seq });
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

  /** Tries until accepted; after a lost race waits (backoff) and tries again, `maxRetries` times. */
  async function untilAccepted(name: StrategyName, params: readonly string[], user: string): Promise<StrategyRecord> {
    for (let i = 0; ; i++) {
      const r = await attempt(name, params, user);
      if (r.accepted) {
        await deps.replica?.flush();
        return r.record;
      }
      if (r.error.code !== 'FK_SEQUENCE_CONFLICT' || i >= deps.maxRetries) throw r.error;
      const waitMs = backoffDelay(i + 1, LOST_RACE_BACKOFF);
      log.info({ seq: r.record.seq, attempt: i + 1, waitMs }, 'lost a race, re-checking and retrying');
      await deps.delay(waitMs);
    }
  }

  return {
    async execute(name, params, as = {}) {
      const run = (): Promise<StrategyRecord> => untilAccepted(name, params, as.user ?? deps.user);
      // One action at a time, whatever became of the one before.
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    async publishCopy(plain, record) {
      assertWritable();
      await transport.publish(stored(plain, record), { id: newId(), seq: record.seq });
    },
  };
}

function describe(e: HistoryEncryption): string {
  return e === 'plain' ? 'plaintext' : `${e}-encrypted`;
}
