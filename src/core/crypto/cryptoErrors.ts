import { CryptoError, InputError, type ErrorDetails } from '../errors';

/**
 * Where a stored record sits, so a crypto failure can name it (`line 12: cannot decrypt …`).
 * Callers pass whatever they know: the 1-based physical line number of a history file, the
 * sequence number of a record that arrived over a transport, or both.
 */
export interface RecordLocation {
  readonly lineNumber?: number | null;
  readonly seq?: number | null;
}

/** `line 12`, `line 12 (seq 40)`, `seq 40` or `record`: the "where" part of a crypto message. */
export function describeLocation(loc: RecordLocation | undefined): string {
  const line = loc?.lineNumber ?? null;
  const seq = loc?.seq ?? null;
  if (line !== null && seq !== null) return `line ${line} (seq ${seq})`;
  if (line !== null) return `line ${line}`;
  if (seq !== null) return `seq ${seq}`;
  return 'record';
}

/**
 * `CryptoError FK_DECRYPT_FAILED` naming the record. `reason` must never contain key material or
 * plaintext; callers pass constant phrases plus, at most, values that are stored in the clear
 * anyway (version, seq, user of an envelope).
 */
export function decryptFailed(
  loc: RecordLocation | undefined,
  reason: string,
  cause?: unknown,
  details?: ErrorDetails,
): CryptoError {
  return new CryptoError('FK_DECRYPT_FAILED', `${describeLocation(loc)}: ${reason}`, {
    cause,
    ...(details === undefined ? {} : { details }),
    lineNumber: loc?.lineNumber ?? null,
    seq: loc?.seq ?? null,
  });
}

/** `CryptoError FK_KEY_INVALID`: key material of the wrong shape. Never quotes the key itself. */
export function keyInvalid(message: string): CryptoError {
  return new CryptoError('FK_KEY_INVALID', message);
}

/** A stored record is one physical line; a newline inside would split it on the way back. */
export function assertOneLine(plain: string): void {
  if (/[\r\n]/.test(plain)) throw new InputError('FK_INPUT_INVALID', 'a record to encrypt must be a single line');
}
