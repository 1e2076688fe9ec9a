import type { Micros } from '../clock';
import { encryptedFormatOf, type Cipher } from '../crypto';
import { CryptoError, DomainError, FkError, hasLinePosition } from '../errors';
import { ADMIN_USER, Tenant, User } from './model';
import type { StrategyRecord } from './records';
import { parseLine } from './serializer';
import type { StrategyContext } from './strategies/context';
import { STRATEGIES } from './strategies';
import { sealAtEndOfHistory } from './strategies/timerTransitions';
import { formatDate } from './time';

export type ReplayMode = 'strict' | 'lenient';

export interface ReplayOptions {
  /** `strict` stops at the first bad line; `lenient` skips it and lists it, like the desktop app. */
  readonly mode?: ReplayMode;
  /** The wall clock for this replay: the admin user's dates, running trackers, the final seal. */
  readonly now: Micros;
  /** Decrypts `+`-prefixed (and other encrypted) lines. */
  readonly cipher?: Cipher;
  /** Default pomodoro durations in seconds (Flowkeeper: 1500 / 300). */
  readonly defaultWork?: number;
  readonly defaultRest?: number;
  /** Seal the last user's timer at `now` when the history ends (Flowkeeper does). @default true */
  readonly sealAtEnd?: boolean;
}

/** One line skipped in lenient mode. */
export interface SkippedLine {
  readonly lineNumber: number | null;
  readonly seq: number | null;
  readonly error: FkError;
}

/** A live model plus the bookkeeping needed to keep applying records to it. */
export interface ReplayState {
  readonly tenant: Tenant;
  lastSeq: number;
  /** True once the first record was applied (its sequence number is never checked). */
  started: boolean;
  lastUser: string | null;
  readonly skipped: SkippedLine[];
  /**
   * Lenient mode only: the sequence problems strict mode would have stopped at. The desktop app
   * ignores them (and so does `fk state --lenient`); `fk check` reports them.
   */
  readonly sequenceProblems?: SkippedLine[];
  /** The counter strict mode would hold (lenient mode, for `sequenceProblems`). */
  strictSeq?: number;
}

export function createTenant(now: Micros): Tenant {
  const tenant = new Tenant('tenant', 'tenant', now, null);
  tenant.users.add(new User(ADMIN_USER, 'System', true, now, formatDate(now), tenant));
  return tenant;
}

export function createReplayState(now: Micros): ReplayState {
  return { tenant: createTenant(now), lastSeq: 0, started: false, lastUser: null, skipped: [], sequenceProblems: [] };
}

let idCounter = 0;
const newId = (): string => `rt-${++idCounter}`;

/** Checks the sequence rule Flowkeeper applies in strict mode; throws `DomainError`. */
export function assertNextSeq(state: ReplayState, record: StrategyRecord, lineNumber: number | null): void {
  if (state.started && record.seq !== state.lastSeq + 1) {
    throw new DomainError(
      'FK_SEQUENCE_CONFLICT',
      `line ${lineNumber ?? '?'}: sequence ${record.seq} after ${state.lastSeq}, expected ${state.lastSeq + 1}`,
      {
        lineNumber,
        seq: record.seq,
        details: {
          pythonError: `Strategies must go in sequence. Received ${record.seq} after ${state.lastSeq}. To attempt a repair go to Settings > Connection > Repair.`,
        },
      },
    );
  }
}

/**
 * Lenient mode: remembers, without acting on it, where strict mode would have failed (the first
 * record is never checked, the counter then restarts at 1), and carries on from the actual number.
 */
function noteSequence(state: ReplayState, record: StrategyRecord, lineNumber: number): void {
  const problems = state.sequenceProblems;
  if (problems === undefined) return;
  if (state.started) {
    const expected = (state.strictSeq ?? 0) + 1;
    if (record.seq !== expected) {
      try {
        assertNextSeq({ ...state, lastSeq: expected - 1 }, record, lineNumber);
      } catch (err) {
        problems.push({ lineNumber, seq: record.seq, error: err as FkError });
      }
    }
  }
  state.strictSeq = state.started ? record.seq : 1;
}

/** Executes one record's strategy against the live model (no sequence check). */
export function executeRecord(state: ReplayState, record: StrategyRecord, opts: ReplayOptions): void {
  const ctx: StrategyContext = {
    tenant: state.tenant,
    record,
    now: opts.now,
    defaultWork: opts.defaultWork ?? 1500,
    defaultRest: opts.defaultRest ?? 300,
    newId,
  };
  STRATEGIES[record.name](ctx);
}

function at(err: unknown, lineNumber: number | null, seq: number | null): FkError {
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

/** Applies one physical line: decrypt, parse, sequence check (strict), execute. */
export function applyLine(state: ReplayState, text: string, lineNumber: number, opts: ReplayOptions): StrategyRecord | null {
  const mode = opts.mode ?? 'strict';
  let plain = text;
  let record: StrategyRecord | null = null;
  try {
    if (encryptedFormatOf(text) !== null) {
      if (!opts.cipher) {
        throw new CryptoError('FK_DECRYPT_FAILED', `line ${lineNumber}: encrypted record and no passphrase given`, {
          lineNumber,
          details: { pythonName: 'InvalidToken', pythonError: '' },
        });
      }
      plain = opts.cipher.decryptLine(text, { lineNumber });
    }
    const parsed = parseLine(plain, lineNumber);
    if (parsed.kind === 'empty') return null;
    record = parsed.record;
    if (mode === 'strict') assertNextSeq(state, record, lineNumber);
    else noteSequence(state, record, lineNumber);
    state.lastSeq = state.started || mode === 'lenient' ? record.seq : 1;
    state.started = true;
    executeRecord(state, record, opts);
    // Flowkeeper seals, at the end, the timer of the user of the last line that *executed*
    state.lastUser = record.user;
    return record;
  } catch (err) {
    const e = at(err, lineNumber, record?.seq ?? null);
    if (mode === 'strict') throw e;
    state.skipped.push({ lineNumber, seq: record?.seq ?? null, error: e });
    return null;
  }
}

/** Seals the last line's user's timer at `now` (Flowkeeper does this after loading). */
export function sealAtEnd(state: ReplayState, now: Micros): void {
  if (state.lastUser === null) return;
  sealAtEndOfHistory(state.tenant, state.lastUser, now);
}

/**
 * Replays a whole history (physical lines) into a fresh model. Throws the first error in strict
 * mode (`ParseError`, `DomainError`, `CryptoError`, each with `lineNumber` and `seq`).
 */
export function replay(lines: Iterable<string>, opts: ReplayOptions): ReplayState {
  const state = createReplayState(opts.now);
  let n = 0;
  for (const line of lines) applyLine(state, line, ++n, opts);
  if (opts.sealAtEnd ?? true) {
    try {
      sealAtEnd(state, opts.now);
    } catch (err) {
      throw at(err, null, null);
    }
  }
  return state;
}

