/**
 * End-to-end encryption of history lines (design point 3). Implementations: Flowkeeper's Fernet
 * format (`+`-prefixed lines) and our libsodium envelope for broker backends.
 * (Implementations land with the encryption issue.)
 */

/** Metadata an encrypted record is bound to, so a record cannot be replayed at another place. */
export interface RecordBinding {
  readonly seq: number;
  readonly user: string;
}

export type CipherFormat = 'fernet' | 'sodium';

export interface Cipher {
  readonly format: CipherFormat;
  /** Turns one plain history line into its stored form. */
  encryptLine(plain: string, binding: RecordBinding): string;
  /** Inverse of `encryptLine`; throws `CryptoError` (`FK_DECRYPT_FAILED`) on a wrong key or tampering. */
  decryptLine(stored: string): string;
}

/** Which encrypted format a stored line is in, or null for a plain line. */
export function encryptedFormatOf(line: string): CipherFormat | null {
  if (line.startsWith('+')) return 'fernet';
  return null;
}
