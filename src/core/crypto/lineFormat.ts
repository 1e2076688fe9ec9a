/**
 * Which encrypted format a stored history line is in, told by its first character: what a reader
 * of a plaintext history needs of the crypto layer, kept apart from the ciphers so that reading a
 * plain file loads none of them (start-up).
 */
export type CipherFormat = 'fernet' | 'sodium';

/** First character of a sodium envelope. Plain lines start with a digit, comments with `#`, Fernet with `+`. */
export const SODIUM_PREFIX = '!';
const FERNET_PREFIX = '+';

/** Which encrypted format a stored line is in, or null for a plain record, comment or blank line. */
export function encryptedFormatOf(line: string): CipherFormat | null {
  if (line.startsWith(FERNET_PREFIX)) return 'fernet';
  if (line.startsWith(SODIUM_PREFIX)) return 'sodium';
  return null;
}
