import { CryptoError, DomainError, FkError, hasLinePosition } from '../errors';
import {
  listSkip,
  type EngineOptions,
  type HistoryState,
  type LineOutcome,
  type Policy,
  type RecordContext,
  type SkipReason,
  type SkippedLine,
} from './historyState';
import { SnapshotReadError } from './lazyRefs';
import { LineFailure, readLine, type Stage } from './lineReader';
import type { StrategyRecord } from './records';
import { parseLine } from './serializer';
import { STRATEGIES } from './strategies';
import type { StrategyContext } from './strategies/context';

/**
 * The record engine: the one place where a stored history line becomes a change of the model.
 * Every reader (a one-shot replay, the long-running client, the tools, the spec helper) feeds it
 * lines one by one (`applyLine`) and gets the same answer for the same line: the same
 * decryption, the same encryption rule, the same sequence rule for its policy, the same strategy.
 *
 * Policies (the caller chooses):
 * - `strict`: Flowkeeper's rule for its data file. The first bad line (unreadable, out of
 *   sequence, failing its strategy) makes the history invalid: `state.error` is set and every
 *   later line is ignored (`halted`).
 * - `lenient`: the desktop default. A bad line is skipped and listed in `state.skipped`; the
 *   sequence problems strict mode would stop at are listed in `state.sequenceProblems`.
 * - `race`: brokers, which order records but cannot refuse one. A record whose number was taken
 *   (`seq <= lastSeq`) lost a race; a record whose strategy fails is rejected; a record that fails
 *   authentication or cannot be read is junk nobody holding the key wrote. All are ignored, by
 *   every reader identically, and counted (`state.counts`, `state.skipped`). A gap
 *   (`seq > lastSeq + 1`) and a missing key still make the history invalid.
 *
 * One encryption rule for every policy: a history is plain or encrypted as a whole. The first
 * record line (or a `# fk-sodium` header before it, or `EngineOptions.encryption`) fixes it; a
 * line of any other kind is an error at that line (`FK_DECRYPT_FAILED`). One exception: a sync
 * server's plaintext seed `CreateUser` as the first record (`seed.ts`) fixes nothing. An encrypted
 * line without a cipher is `FK_KEY_INVALID`, and a header key check the cipher does not match is a
 * wrong passphrase (`FK_DECRYPT_FAILED`): both halt (`lenient` skips them like any bad line).
 *
 * The engine keeps no module state and reads no clock: "now" and fresh ids come with each record
 * (`RecordContext`), so a client that runs for weeks applies each record at the instant it
 * arrives.
 */
export {
  createHistoryState,
  createTenant,
  MAX_LISTED_SKIPS,
  type EngineOptions,
  type HistoryEncryption,
  type HistoryState,
  type LineOutcome,
  type Policy,
  type RecordContext,
  type SkipReason,
  type SkippedLine,
} from './historyState';

const BLANK: LineOutcome = { kind: 'blank' };
const DECRYPTED = { decrypted: true } as const;
const PLAIN = { decrypted: false } as const;

/** The default `RecordContext.newId`: `rt-1`, `rt-2`… counted in the state. */
export function runtimeIds(state: HistoryState): () => string {
  return () => `rt-${++state.nextId}`;
}

/** Executes one record's strategy against the model: no decryption, no sequence rule. */
export function executeRecord(state: HistoryState, record: StrategyRecord, ctx: RecordContext): void {
  const strategyCtx: StrategyContext = {
    tenant: state.tenant,
    record,
    now: ctx.now,
    defaultWork: ctx.defaultWork ?? 1500,
    defaultRest: ctx.defaultRest ?? 300,
    newId: ctx.newId ?? runtimeIds(state),
  };
  STRATEGIES[record.name](strategyCtx);
}

/** Throws Flowkeeper's sequence error unless `record` is the next one (the first is never checked). */
export function assertNextSeq(
  state: Pick<HistoryState, 'started' | 'lastSeq'>,
  record: StrategyRecord,
  lineNumber: number | null,
): void {
  if (state.started && record.seq !== state.lastSeq + 1) {
    throw new DomainError(
      'FK_SEQUENCE_CONFLICT',
      `line ${lineNumber ?? '?'}: sequence ${record.seq} after ${state.lastSeq}, expected ${state.lastSeq + 1}`,
      {
        lineNumber,
        seq: record.seq,
        details: {
          pythonError:
            `Strategies must go in sequence. Received ${record.seq} after ${state.lastSeq}. ` +
            'To attempt a repair go to Settings > Connection > Repair.',
        },
      },
    );
  }
}

/** Gives an error the line's position (and a `line N: ` prefix); wraps what is not an `FkError`. */
export function atLine(err: unknown, lineNumber: number | null, seq: number | null): FkError {
  if (hasLinePosition(err)) {
    if (err.lineNumber === null) err.lineNumber = lineNumber;
    if (err.seq === null) err.seq = seq;
    if (lineNumber !== null && !err.message.startsWith('line ')) err.message = `line ${lineNumber}: ${err.message}`;
    return err;
  }
  if (err instanceof FkError) return err;
  return new DomainError('FK_ILLEGAL_STATE', `line ${lineNumber ?? '?'}: ${String(err)}`, {
    lineNumber,
    seq,
    cause: err,
    pythonName: 'Exception',
  });
}

/**
 * `lenient` only: notes, without acting on it, where strict mode would have failed (the first
 * record is never checked, the counter then restarts at 1).
 */
function noteSequence(state: HistoryState, record: StrategyRecord, lineNumber: number): void {
  if (state.started) {
    const expected = state.strictSeq + 1;
    if (record.seq !== expected) {
      try {
        assertNextSeq({ started: true, lastSeq: expected - 1 }, record, lineNumber);
      } catch (err) {
        state.sequenceProblems.push({ lineNumber, seq: record.seq, error: err as FkError });
      }
    }
  }
  state.strictSeq = state.started ? record.seq : 1;
}

/**
 * Applies one stored line (as the backend holds it) under `opts.policy`, with `ctx` for this
 * record. Never throws for a bad line: the outcome says what happened, and `state` keeps the
 * bookkeeping (`error`, `skipped`, `counts`). Lines must come in the backend's order.
 */
export function applyLine(state: HistoryState, text: string, opts: EngineOptions, ctx: RecordContext): LineOutcome {
  const lineNumber = ++state.lineNumber;
  if (state.error !== null) return { kind: 'halted', error: state.error, record: null, plain: null };
  const policy = opts.policy;
  let plain: string | null = null;
  let record: StrategyRecord | null = null;
  try {
    plain = readLine(state, text, lineNumber, opts);
    if (plain === null) return BLANK;
    let parsed;
    try {
      parsed = parseLine(plain, lineNumber, plain !== text ? DECRYPTED : PLAIN);
    } catch (err) {
      throw new LineFailure('parse', err);
    }
    if (parsed.kind === 'empty') return BLANK;
    record = parsed.record;
    if (policy === 'race') {
      if (state.started && record.seq <= state.lastSeq) {
        state.counts.lostRaces++;
        return { kind: 'lost-race', record, plain };
      }
      try {
        assertNextSeq(state, record, lineNumber);
      } catch (err) {
        throw new LineFailure('gap', err);
      }
    } else if (policy === 'strict') {
      try {
        assertNextSeq(state, record, lineNumber);
      } catch (err) {
        throw new LineFailure('sequence', err);
      }
      state.lastSeq = state.started ? record.seq : 1;
      state.started = true;
    } else {
      noteSequence(state, record, lineNumber);
      // Flowkeeper takes the number before it executes: a failing record still moves the counter.
      state.lastSeq = record.seq;
      state.started = true;
    }
    try {
      executeRecord(state, record, ctx);
    } catch (err) {
      if (err instanceof SnapshotReadError) throw err; // the model's store failed, not the line
      throw new LineFailure('rule', err);
    }
    if (policy === 'race') {
      state.lastSeq = state.started ? record.seq : 1;
      state.started = true;
    }
    state.lastUser = record.user;
    return { kind: 'applied', record, plain };
  } catch (failure) {
    if (!(failure instanceof LineFailure)) throw failure; // a bug, not a bad line
    const error = atLine(failure.error, lineNumber, record?.seq ?? null);
    return fail(state, policy, failure.stage, error, lineNumber, record, plain);
  }
}

function fail(
  state: HistoryState,
  policy: Policy,
  stage: Stage,
  error: FkError,
  lineNumber: number,
  record: StrategyRecord | null,
  plain: string | null,
): LineOutcome {
  const seq = record?.seq ?? null;
  if (policy === 'lenient') {
    listSkip(state, { lineNumber, seq, error, reason: 'failed' });
    return { kind: 'skipped', reason: 'failed', error, record, plain };
  }
  if (policy === 'race' && stage !== 'key' && stage !== 'gap') {
    const reason: SkipReason = stage === 'rule' ? 'rejected' : stage === 'parse' ? 'unreadable' : 'unauthentic';
    const skip: SkippedLine = { lineNumber, seq, error, reason };
    if (stage === 'auth' && state.authenticated === 0) state.doubtful.push(skip);
    else listSkip(state, skip);
    return { kind: 'skipped', reason, error, record, plain };
  }
  state.error = error;
  return { kind: 'halted', error, record, plain };
}

/**
 * `race`: call once the reader has caught up with the backend. If records failed authentication
 * and none authenticated, the key is wrong (not the records): the history becomes invalid with
 * `FK_DECRYPT_FAILED` "wrong passphrase". Returns `state.error`.
 */
export function settleKey(state: HistoryState): FkError | null {
  if (state.error === null && state.authenticated === 0 && state.doubtful.length > 0) {
    const n = state.doubtful.length;
    const first = state.doubtful[0] as SkippedLine;
    state.error = new CryptoError(
      'FK_DECRYPT_FAILED',
      `wrong passphrase: none of the ${n} encrypted record${n === 1 ? '' : 's'} of this history decrypts with this key`,
      { lineNumber: first.lineNumber, seq: first.seq, cause: first.error },
    );
  }
  return state.error;
}
