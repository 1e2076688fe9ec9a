import { encryptedFormatOf } from '../crypto/lineFormat';
import { parseSodiumHeader } from '../crypto/sodiumHeader';
import { CryptoError } from '../errors';
import { listSkip, type EngineOptions, type HistoryEncryption, type HistoryState } from './historyState';
import { isSeedLine } from './seed';
import { isEmptyLine } from './serializer';

/** Where a line failed decides how `race` treats it. */
export type Stage = 'key' | 'mixed' | 'auth' | 'parse' | 'sequence' | 'gap' | 'rule';

export class LineFailure {
  constructor(
    readonly stage: Stage,
    readonly error: unknown,
  ) {}
}

/** The encryption rule and decryption. Returns the plain line, or null for a blank line or comment. */
export function readLine(state: HistoryState, text: string, lineNumber: number, opts: EngineOptions): string | null {
  const format = encryptedFormatOf(text);
  if (format === null && isEmptyLine(text)) {
    // A sodium history's header comes before its first record (the first header wins).
    if (!state.headerSeen && !state.started) readHeader(state, text, lineNumber, opts);
    return null;
  }
  const kind: HistoryEncryption = format ?? 'plain';
  // A sync server's plaintext seed (`seed.ts`) opens a history without fixing its encryption.
  if (kind === 'plain' && !state.started && isSeedLine(text)) return text;
  const expected = state.encryption ?? opts.encryption ?? null;
  if (expected !== null && kind !== expected) {
    const what = (k: HistoryEncryption): string => (k === 'plain' ? 'plaintext' : k);
    throw new LineFailure(
      'mixed',
      new CryptoError('FK_DECRYPT_FAILED', `line ${lineNumber}: ${what(kind)} record in a ${what(expected)} history`, {
        lineNumber,
        details: { pythonName: 'InvalidToken', pythonError: '' },
      }),
    );
  }
  state.encryption = kind;
  if (format === null) return text;
  if (!opts.cipher) {
    throw new LineFailure(
      'key',
      new CryptoError('FK_KEY_INVALID', `line ${lineNumber}: the history is encrypted and no passphrase was given`, {
        lineNumber,
        details: { pythonName: 'InvalidToken', pythonError: '' },
      }),
    );
  }
  let plain: string;
  try {
    plain = opts.cipher.decryptLine(text, { lineNumber });
  } catch (err) {
    throw new LineFailure('auth', err);
  }
  state.authenticated++;
  if (state.doubtful.length > 0) {
    // A record authenticated: what failed before it was junk, not a wrong key.
    for (const d of state.doubtful.splice(0)) listSkip(state, d);
  }
  return plain;
}

/** A `# fk-sodium` header: fixes the encryption, and its key check tells a wrong passphrase at once. */
function readHeader(state: HistoryState, text: string, lineNumber: number, opts: EngineOptions): void {
  let header;
  try {
    header = parseSodiumHeader(text, lineNumber);
  } catch (err) {
    throw new LineFailure('parse', err);
  }
  if (header === null) return;
  state.headerSeen = true;
  if (state.encryption === null && opts.encryption === undefined) state.encryption = 'sodium';
  const mine = opts.cipher?.keyCheck?.();
  if (header.check !== undefined && mine !== undefined && mine !== header.check) {
    throw new LineFailure(
      'key',
      new CryptoError(
        'FK_DECRYPT_FAILED',
        `line ${lineNumber}: wrong passphrase: this key cannot decrypt the history ` +
          "(its header's key check does not match)",
        { lineNumber },
      ),
    );
  }
}
