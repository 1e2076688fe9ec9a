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
