/**
 * The one error catalog (STYLE §6). Subclasses say how the caller must react; `code` says what
 * went wrong. Callers branch on `code` or `instanceof`, never on the message text.
 */
export type FkErrorCode =
  | 'FK_INPUT_INVALID'
  | 'FK_CONFIG_INVALID'
  | 'FK_PARSE_FAILED'
  | 'FK_UNKNOWN_STRATEGY'
  | 'FK_NOT_FOUND'
  | 'FK_ALREADY_EXISTS'
  | 'FK_ILLEGAL_STATE'
  | 'FK_SEQUENCE_CONFLICT'
  | 'FK_HISTORY_INVALID'
  | 'FK_HISTORY_DIVERGED'
  | 'FK_DECRYPT_FAILED'
  | 'FK_KEY_INVALID'
  | 'FK_TRANSPORT_UNAVAILABLE'
  | 'FK_TRANSPORT_CLOSED'
  | 'FK_TRANSPORT_TIMEOUT'
  | 'FK_AUTH_FAILED'
  | 'FK_ACCESS_DENIED'
  | 'FK_READ_ONLY';

export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export interface FkErrorOptions {
  readonly cause?: unknown;
  readonly details?: ErrorDetails;
}

/** Base class of every error this project throws on purpose. */
export class FkError extends Error {
  override name = 'FkError';
  readonly code: FkErrorCode;
  readonly details: ErrorDetails | undefined;
  constructor(code: FkErrorCode, message: string, options: FkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

/** Bad CLI arguments, options or configuration. */
export class InputError extends FkError {
  override name = 'InputError';
}

/** Position of a failing history line: 1-based physical line number and its sequence, when known. */
export interface LinePosition {
  lineNumber: number | null;
  seq: number | null;
}

/** Base of the errors that point at a history line: its 1-based number and its sequence. */
export abstract class LineError extends FkError implements LinePosition {
  lineNumber: number | null;
  seq: number | null;
  constructor(code: FkErrorCode, message: string, options: FkErrorOptions & Partial<LinePosition> = {}) {
    super(code, message, options);
    this.lineNumber = options.lineNumber ?? null;
    this.seq = options.seq ?? null;
  }
}

/** A history line that cannot be read: bad syntax, unknown strategy, bad timestamp. */
export class ParseError extends LineError {
  override name = 'ParseError';
}

/** What a refused strategy was about: the kinds of thing the model holds. */
export type RefusedEntity = 'user' | 'backlog' | 'workitem' | 'category' | 'pomodoro' | 'timer' | 'record';

/**
 * The business rules a strategy refuses by (Flowkeeper's checks, named once), so that a caller
 * can word a refusal in its own terms without reading the message:
 * - `not-found`, `already-exists`: the entity with that uid is missing, or already there
 * - `sealed`: the workitem is finished or canceled; `not-sealed`: it is not (RestoreWorkitem)
 * - `timer-running`: the user's timer already runs; `timer-idle`: it does not (StopTimer)
 * - `not-running`: the workitem has no running pomodoro (AddInterruption, VoidPomodoro)
 * - `no-planned-pomodoro`: the workitem has no new pomodoro to start
 * - `too-few-planned`: fewer new pomodoros than RemovePomodoro removes (`details.available`)
 * - `admin-only`, `system-user`: only the admin manages users; the admin itself is not managed
 * - `root-category`: the root category is not renamed or reordered
 * - `category-assigned`, `category-not-assigned`: UpdateWorkitemCategories adds one the
 *   workitem has, or removes one it lacks
 * - `invalid-parameter`: a parameter outside what the strategy takes (a count, a type, a state)
 * - `timer-transition`: a pomodoro cannot make that transition (Flowkeeper's internal checks)
 */
export type DomainRule =
  | 'not-found'
  | 'already-exists'
  | 'sealed'
  | 'not-sealed'
  | 'timer-running'
  | 'timer-idle'
  | 'not-running'
  | 'no-planned-pomodoro'
  | 'too-few-planned'
  | 'admin-only'
  | 'system-user'
  | 'root-category'
  | 'category-assigned'
  | 'category-not-assigned'
  | 'invalid-parameter'
  | 'timer-transition';

/** A refusal in data: which rule, about which entity (and uid, never a name: names are user data). */
export interface Refusal {
  readonly rule: DomainRule;
  readonly entity: RefusedEntity;
  readonly uid?: string;
  /** `too-few-planned`: how many new pomodoros there are. */
  readonly available?: number;
}

/**
 * A business rule rejected a strategy, or the history is inconsistent (gap, duplicate sequence).
 * `pythonName` is the exception class Flowkeeper itself raises in the same situation, kept so that
 * `fk state` reports the same failure as the desktop app.
 */
export class DomainError extends LineError {
  override name = 'DomainError';
  readonly pythonName: string;
  constructor(
    code: FkErrorCode,
    message: string,
    options: FkErrorOptions & Partial<LinePosition> & { pythonName?: string } = {},
  ) {
    super(code, message, options);
    this.pythonName = options.pythonName ?? 'Exception';
  }

  /** The rule a strategy refused by (in `details`), or null for other domain errors (a gap, a time). */
  get refusal(): Refusal | null {
    const d = this.details;
    if (d === undefined || typeof d.rule !== 'string' || typeof d.entity !== 'string') return null;
    return {
      rule: d.rule as DomainRule,
      entity: d.entity as RefusedEntity,
      ...(typeof d.uid === 'string' ? { uid: d.uid } : {}),
      ...(typeof d.available === 'number' ? { available: d.available } : {}),
    };
  }
}

/** Encryption failures: wrong key, tampered or truncated record, plaintext where ciphertext is due. */
export class CryptoError extends LineError {
  override name = 'CryptoError';
}

/** A backend could not be reached or refused us. `retryable` says whether trying again may help. */
export class TransportError extends FkError {
  override name = 'TransportError';
  readonly retryable: boolean;
  constructor(code: FkErrorCode, message: string, options: FkErrorOptions & { retryable?: boolean } = {}) {
    super(code, message, options);
    this.retryable = options.retryable ?? false;
  }
}

/** True for errors that carry the position of a history line. */
export function hasLinePosition(err: unknown): err is LineError {
  return err instanceof LineError;
}
