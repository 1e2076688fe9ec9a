import type { Micros } from '../clock';
import type { Cipher, CipherFormat } from '../crypto';
import type { FkError } from '../errors';
import { ADMIN_USER, Tenant, User } from './model';
import type { StrategyRecord } from './records';
import { formatDate } from './time';

/*
 * The record engine's types and state; `engine.ts` applies lines to it (see its module doc).
 */

/** `strict` (Flowkeeper's file rule), `lenient` (the desktop default), `race` (brokers). */
export type Policy = 'strict' | 'lenient' | 'race';

/** How a whole history is stored: plain Flowkeeper lines, Fernet (`+…`) or sodium (`!…`). */
export type HistoryEncryption = 'plain' | CipherFormat;

/** What a record is applied with, besides the model: given per record, never kept. */
export interface RecordContext {
  /** The wall clock as the record is applied: a new user's last date, a tracker's elapsed time. */
  readonly now: Micros;
  /** Ids for objects Flowkeeper never persists. @default a counter kept in the state (`rt-1`, …) */
  readonly newId?: () => string;
  /** Default pomodoro durations in seconds (Flowkeeper: 1500 / 300). */
  readonly defaultWork?: number;
  readonly defaultRest?: number;
}

export interface EngineOptions {
  readonly policy: Policy;
  /** Decrypts encrypted lines; without one an encrypted line is `FK_KEY_INVALID`. */
  readonly cipher?: Cipher;
  /** The encryption the history must have, when the caller knows it; else its first record fixes it. */
  readonly encryption?: HistoryEncryption;
}

/** Why a line was skipped: `failed` (lenient), or in `race` the kind of record that was ignored. */
export type SkipReason = 'failed' | 'rejected' | 'unauthentic' | 'unreadable';

/** One line skipped: by `lenient`, or ignored by `race` (except lost races, which are only counted). */
export interface SkippedLine {
  readonly lineNumber: number | null;
  readonly seq: number | null;
  readonly error: FkError;
  readonly reason?: SkipReason;
}

/** At most this many skipped lines are listed in `race` (the counts stay exact): junk is cheap to publish. */
export const MAX_LISTED_SKIPS = 1000;

/** A live model plus the bookkeeping needed to keep applying lines to it. */
export interface HistoryState {
  readonly tenant: Tenant;
  /** The last accepted sequence number (Flowkeeper's counter: the first record counts as 1). */
  lastSeq: number;
  /** True once the first record was taken (its sequence number is never checked). */
  started: boolean;
  /** User of the last record that executed successfully: the end-of-history seal acts for it. */
  lastUser: string | null;
  /** Physical lines (file) or entries (broker) seen so far, for messages. */
  lineNumber: number;
  /** Fixed by the first record line (or the caller); null while the history has none. */
  encryption: HistoryEncryption | null;
  /** A `# fk-sodium` header was read (before the first record; later ones are comments). */
  headerSeen: boolean;
  /** `strict` and `race`: what made the history invalid; every later line is ignored. */
  error: FkError | null;
  readonly skipped: SkippedLine[];
  /** `lenient`: the sequence problems strict mode would have stopped at (`fk check` lists them). */
  readonly sequenceProblems: SkippedLine[];
  /** `lenient`: the counter strict mode would hold, for `sequenceProblems`. */
  strictSeq: number;
  /** Counter behind the default `RecordContext.newId`. */
  nextId: number;
  /** `race`: what was ignored, by kind (exact, unlike the capped `skipped` list). */
  readonly counts: { lostRaces: number; rejected: number; unauthentic: number; unreadable: number };
  /** Encrypted records that authenticated with the key. */
  authenticated: number;
  /**
   * `race`: records that failed authentication before any record authenticated. Junk if a later
   * record authenticates (then they move to `skipped`); a wrong passphrase if none does
   * (`settleKey`).
   */
  readonly doubtful: SkippedLine[];
}

/** What one line did. */
export type LineOutcome =
  | { readonly kind: 'applied'; readonly record: StrategyRecord; readonly plain: string }
  /** A blank line or a comment. */
  | { readonly kind: 'blank' }
  | { readonly kind: 'lost-race'; readonly record: StrategyRecord; readonly plain: string }
  | {
      readonly kind: 'skipped';
      readonly reason: SkipReason;
      readonly error: FkError;
      readonly record: StrategyRecord | null;
      readonly plain: string | null;
    }
  /** The history is invalid (this line, or an earlier one: `state.error`). */
  | {
      readonly kind: 'halted';
      readonly error: FkError;
      readonly record: StrategyRecord | null;
      readonly plain: string | null;
    };

export function createTenant(now: Micros): Tenant {
  const tenant = new Tenant('tenant', 'tenant', now, null);
  tenant.users.add(new User(ADMIN_USER, 'System', true, now, formatDate(now), tenant));
  return tenant;
}

/** An empty history; `now` is the creation instant of the tenant and its admin user. */
export function createHistoryState(now: Micros): HistoryState {
  return {
    tenant: createTenant(now),
    lastSeq: 0,
    started: false,
    lastUser: null,
    lineNumber: 0,
    encryption: null,
    headerSeen: false,
    error: null,
    skipped: [],
    sequenceProblems: [],
    strictSeq: 0,
    nextId: 0,
    counts: { lostRaces: 0, rejected: 0, unauthentic: 0, unreadable: 0 },
    authenticated: 0,
    doubtful: [],
  };
}

/** Lists a skipped line (counted by kind; the list is capped in `race`). */
export function listSkip(state: HistoryState, s: SkippedLine): void {
  if (s.reason !== undefined && s.reason !== 'failed') state.counts[s.reason]++;
  const listed = s.reason === undefined || s.reason === 'failed' || state.skipped.length < MAX_LISTED_SKIPS;
  if (listed) state.skipped.push(s);
}
