import { nodeCrypto } from '../nodeCrypto';
import { TextDecoder } from 'node:util';
import { systemClock } from '../clock';
import type { Cipher, RecordBinding } from './';
import { assertOneLine, decryptFailed, keyInvalid, type RecordLocation } from './cryptoErrors';
import { InputError, type CryptoError } from '../errors';

/*
 * Flowkeeper's encrypted history lines: `+` followed by a Fernet token of the plain line.
 * Fernet is specified at https://github.com/fernet/spec (Spec.md):
 *   token = base64url( 0x80 ‖ timestamp (u64 BE seconds) ‖ IV (16) ‖ AES-128-CBC-PKCS7(plain) ‖ HMAC )
 *   HMAC  = HMAC-SHA256(signing key, everything before it)
 *   key   = signing key (16) ‖ encryption key (16)
 * Flowkeeper derives the 32-byte key from the passphrase with PBKDF2-HMAC-SHA256, a fixed salt
 * and 480 000 iterations (checked against test/fixtures/enc-s01.txt).
 */

const FERNET_PREFIX = '+';
const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16;
const HMAC_BYTES = 32;
const BLOCK = 16;
/** The fixed PBKDF2 salt Flowkeeper uses: the ASCII bytes of this string, not its hex decoding. */
const PBKDF2_SALT = Buffer.from('e1a7a49b5bad75ec81fcb8cded4bbc0c', 'ascii');
const PBKDF2_ITERATIONS = 480_000;
const KEY_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+={0,2}$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Options of {@link createFernetCipher}; both exist so tests can pin the output. */
export interface FernetCipherOptions {
  /**
   * Current time in seconds since the Unix epoch, written into each token (Fernet's timestamp).
   * Decryption does not check it: Flowkeeper histories never expire.
   * @default the system clock
   */
  readonly now?: () => number;
  /**
   * Source of the 16-byte IV of each token.
   * @default node:crypto randomBytes
   */
  readonly randomBytes?: (n: number) => Uint8Array;
}

/**
 * Flowkeeper's key derivation: PBKDF2-HMAC-SHA256(passphrase as UTF-8, salt, 480 000, 32 bytes).
 * Returns the 32 raw key bytes (signing key ‖ encryption key). Takes ~0.1–0.5 s by design, so
 * callers cache the result (see the CLI key cache).
 */
export function deriveFernetKey(passphrase: string): Uint8Array {
  const p = fernetKdfParams(passphrase);
  return new Uint8Array(nodeCrypto().pbkdf2Sync(p.password, p.salt, p.iterations, p.keyBytes, p.digest));
}

/**
 * The validated inputs of {@link deriveFernetKey} (PBKDF2), so a caller can run the same
 * derivation without blocking (node:crypto's asynchronous `pbkdf2`).
 */
export function fernetKdfParams(passphrase: string): {
  password: Buffer;
  salt: Buffer;
  iterations: number;
  keyBytes: number;
  digest: 'sha256';
} {
  if (passphrase.length === 0) throw keyInvalid('passphrase must not be empty');
  return {
    password: Buffer.from(passphrase, 'utf8'),
    salt: PBKDF2_SALT,
    iterations: PBKDF2_ITERATIONS,
    keyBytes: KEY_BYTES,
    digest: 'sha256',
  };
}

/** Encodes raw key bytes the way Fernet libraries print keys (url-safe base64, padded). */
export function encodeFernetKey(key: Uint8Array): string {
  return toBase64UrlPadded(checkKey(key));
}

/**
 * A {@link Cipher} for Flowkeeper's `+`-prefixed lines.
 *
 * Fernet has no associated data, so the binding passed to `encryptLine` is not authenticated:
 * a Fernet record could be moved to another history encrypted under the same passphrase. The
 * seq and user inside the plaintext still let replay detect reordering within one history.
 *
 * @param key 32 raw bytes from {@link deriveFernetKey}, or their url-safe base64 form (44 chars)
 * @example
 * const cipher = createFernetCipher(deriveFernetKey(passphrase));
 * const stored = cipher.encryptLine(line, { seq: 5, user: 'user@local.host' }); // '+gAAAA…'
 * cipher.decryptLine(stored, { lineNumber: 5 }) === line;
 */
export function createFernetCipher(key: Uint8Array | string, opts: FernetCipherOptions = {}): Cipher {
  const raw = typeof key === 'string' ? decodeKeyString(key) : checkKey(key);
  const signingKey = Buffer.from(raw.subarray(0, 16));
  const encryptionKey = Buffer.from(raw.subarray(16, 32));
  const now = opts.now ?? (() => systemClock.now() / 1e6);
  const random = opts.randomBytes ?? ((n: number) => nodeCrypto().randomBytes(n));

  function encryptLine(plain: string, _binding: RecordBinding): string {
    assertOneLine(plain);
    const iv = Buffer.from(random(BLOCK));
    if (iv.length !== BLOCK)
      throw new InputError('FK_INPUT_INVALID', `randomBytes returned ${iv.length} bytes, expected ${BLOCK}`);
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now()))), 1);
    iv.copy(header, 9);
    const aes = nodeCrypto().createCipheriv('aes-128-cbc', encryptionKey, iv);
    const body = Buffer.concat([header, aes.update(plain, 'utf8'), aes.final()]);
    const mac = nodeCrypto().createHmac('sha256', signingKey).update(body).digest();
    return FERNET_PREFIX + toBase64UrlPadded(Buffer.concat([body, mac]));
  }

  function decryptLine(stored: string, where?: RecordLocation): string {
    if (!stored.startsWith(FERNET_PREFIX)) throw fernetFailed(where, 'not a fernet record');
    const text = stored.slice(1).trimEnd();
    if (text.length % 4 !== 0 || !TOKEN_PATTERN.test(text)) throw fernetFailed(where, 'malformed fernet token');
    const token = Buffer.from(text, 'base64url');
    const ctLength = token.length - HEADER_BYTES - HMAC_BYTES;
    if (ctLength < BLOCK || ctLength % BLOCK !== 0) throw fernetFailed(where, 'truncated fernet token');
    if (token[0] !== VERSION) throw fernetFailed(where, `unsupported fernet version 0x${(token[0] ?? 0).toString(16)}`);
    const body = token.subarray(0, token.length - HMAC_BYTES);
    const mac = nodeCrypto().createHmac('sha256', signingKey).update(body).digest();
    if (!nodeCrypto().timingSafeEqual(mac, token.subarray(token.length - HMAC_BYTES))) {
      throw fernetFailed(where, 'cannot decrypt fernet record (wrong passphrase or tampered record)');
    }
    try {
      const aes = nodeCrypto().createDecipheriv('aes-128-cbc', encryptionKey, token.subarray(9, HEADER_BYTES));
      return utf8.decode(Buffer.concat([aes.update(token.subarray(HEADER_BYTES, body.length)), aes.final()]));
    } catch (err) {
      // Only reachable with a valid HMAC, i.e. a token made by someone holding the key.
      throw fernetFailed(where, 'cannot decrypt fernet record (bad padding or encoding)', err);
    }
  }

  return { format: 'fernet', encryptLine, decryptLine };
}

/**
 * Every Fernet failure is `cryptography.fernet.InvalidToken` (whose `str()` is empty) in
 * Flowkeeper; `fk state` reports that name (shared/oracle/STATE-FORMAT.md, `exception`).
 */
function fernetFailed(where: RecordLocation | undefined, reason: string, cause?: unknown): CryptoError {
  return decryptFailed(where, reason, cause, { pythonName: 'InvalidToken', pythonError: '' });
}

function checkKey(key: Uint8Array): Uint8Array {
  if (key.length !== KEY_BYTES) throw keyInvalid(`fernet key must be ${KEY_BYTES} bytes, got ${key.length}`);
  return key;
}

function decodeKeyString(key: string): Uint8Array {
  if (key.length !== 44 || !TOKEN_PATTERN.test(key)) {
    throw keyInvalid(`fernet key must be 44 characters of url-safe base64, got ${key.length} characters`);
  }
  return checkKey(new Uint8Array(Buffer.from(key, 'base64url')));
}

function toBase64UrlPadded(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
