import type { Micros } from '../clock';
import type { Cipher } from '../crypto';
import {
  applyLine,
  atLine,
  createHistoryState,
  executeRecord as executeOne,
  type HistoryEncryption,
  type HistoryState,
  type RecordContext,
  runtimeIds,
} from './engine';
import type { StrategyRecord } from './records';
import { sealAtEndOfHistory } from './strategies/timerTransitions';

export { assertNextSeq, createTenant, type SkippedLine } from './engine';

/** A one-shot replay of a file: Flowkeeper's two modes (the record engine's `strict` and `lenient`). */
export type ReplayMode = 'strict' | 'lenient';

/** A replayed model and its bookkeeping (the record engine's state). */
export type ReplayState = HistoryState;

export interface ReplayOptions {
  /** `strict` stops at the first bad line; `lenient` skips it and lists it, like the desktop app. */
  readonly mode?: ReplayMode;
  /**
   * The wall clock of this replay: every record is applied "now" (a new user's last date, a
   * running tracker), and the final seal happens at it.
   */
  readonly now: Micros;
  /** Decrypts `+`-prefixed (and other encrypted) lines. */
  readonly cipher?: Cipher;
  /** The encryption the history must have; by default its first record fixes it. */
  readonly encryption?: HistoryEncryption;
  /** Default pomodoro durations in seconds (Flowkeeper: 1500 / 300). */
  readonly defaultWork?: number;
  readonly defaultRest?: number;
  /** Seal the last user's timer at `now` when the history ends (Flowkeeper does). @default true */
  readonly sealAtEnd?: boolean;
}

export function createReplayState(now: Micros): ReplayState {
  return createHistoryState(now);
}

/**
 * Executes one record's strategy against the model (no decryption, no sequence rule): for
 * records already accepted and held in memory (the tools). `opts.now` is the record's "now".
 */
export function executeRecord(state: ReplayState, record: StrategyRecord, opts: RecordContext): void {
  executeOne(state, record, opts);
}

/** Seals the timer of the last successfully executed line's user at `now` (Flowkeeper does this after loading). */
export function sealAtEnd(state: ReplayState, now: Micros): void {
  if (state.lastUser === null) return;
  sealAtEndOfHistory(state.tenant, state.lastUser, now);
}

/**
 * Replays a whole history (physical lines, one at a time) into a fresh model through the record
 * engine. Throws the first error in strict mode (`ParseError`, `DomainError`, `CryptoError`, each
 * with `lineNumber` and `seq`); lenient mode lists it in `skipped` and goes on.
 */
export function replay(lines: Iterable<string>, opts: ReplayOptions): ReplayState {
  const state = createReplayState(opts.now);
  const engine = {
    policy: opts.mode ?? 'strict',
    ...(opts.cipher ? { cipher: opts.cipher } : {}),
    ...(opts.encryption ? { encryption: opts.encryption } : {}),
  } as const;
  const ctx: RecordContext = {
    now: opts.now,
    newId: runtimeIds(state), // the engine's default, made once rather than per record
    ...(opts.defaultWork !== undefined ? { defaultWork: opts.defaultWork } : {}),
    ...(opts.defaultRest !== undefined ? { defaultRest: opts.defaultRest } : {}),
  };
  for (const line of lines) {
    applyLine(state, line, engine, ctx);
    if (state.error !== null) throw state.error;
  }
  if (opts.sealAtEnd ?? true) {
    try {
      sealAtEnd(state, opts.now);
    } catch (err) {
      throw atLine(err, null, null);
    }
  }
  return state;
}
