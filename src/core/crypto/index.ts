/**
 * End-to-end encryption of history lines (design point 3: the backend only ever sees
 * ciphertext). Two formats, one {@link Cipher} interface:
 *
 * - `fernet`: Flowkeeper's own `+`-prefixed lines (implemented in `fernet.ts`, re-exported here);
 * - `sodium`: our XChaCha20-Poly1305 envelope for broker backends, bound to log, seq and user.
 *
 * Byte layouts, KDF parameters and the threat model are in docs/encryption.md.
 */
import type * as Sodium from 'libsodium-wrappers-sumo';

type SodiumModule = typeof Sodium;

let sodiumModule: Promise<SodiumModule> | null = null;

/**
 * libsodium (with its WebAssembly) loads on first use: replaying a plain or Fernet history, the
 * common case, does not pay its start-up time and memory.
 */
function loadSodium(): Promise<SodiumModule> {
  sodiumModule ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('libsodium-wrappers-sumo') as SodiumModule;
    await mod.ready;
    return mod;
  })();
  return sodiumModule;
}
import { nodeCrypto } from '../nodeCrypto';
import { assertOneLine, decryptFailed, keyInvalid, type RecordLocation } from './cryptoErrors';
import { InputError } from '../errors';
import { createAssociatedData, createEnvelopeOpener } from './sodiumOpen';
import { encryptedFormatOf, SODIUM_PREFIX, type CipherFormat } from './lineFormat';

export {
  createFernetCipher,
  deriveFernetKey,
  encodeFernetKey,
  fernetKdfParams,
  type FernetCipherOptions,
} from './fernet';
export { formatSodiumHeader, parseSodiumHeader, findSodiumHeader, type SodiumHeader } from './sodiumHeader';
export type { RecordLocation } from './cryptoErrors';

/** Metadata an encrypted record is bound to, so a record cannot be replayed at another place. */
export interface RecordBinding {
  readonly seq: number;
  readonly user: string;
}

export { encryptedFormatOf, SODIUM_PREFIX, type CipherFormat } from './lineFormat';

export interface Cipher {
  readonly format: CipherFormat;
  /**
   * Turns one plain history line into its stored form. `binding` must be the record's own seq
   * and user; the sodium format authenticates it, Fernet (no associated data) ignores it.
   */
  encryptLine(plain: string, binding: RecordBinding): string;
  /**
   * Inverse of `encryptLine`. Throws `CryptoError` `FK_DECRYPT_FAILED` on a wrong key, a tampered
   * or truncated record, or a line of another format; the message starts with `where`
   * (`line 12: …`) and never contains key material or plaintext.
   */
  decryptLine(stored: string, where?: RecordLocation): string;
  /** Sodium: `sodiumKeyCheck` of this cipher's key and log, compared with a header's `check`. */
  keyCheck?(): string;
}

/**
 * Throws `CryptoError FK_DECRYPT_FAILED` when a history that must be encrypted in `format` holds a
 * plaintext record (`line 7: plaintext record in an encrypted history`) or a record of the other
 * format. Comments and blank lines pass: they are never encrypted (a sodium history's header is a
 * comment).
 */
export function assertEncryptedLine(line: string, format: CipherFormat, lineNumber: number | null): void {
  if (line.trim() === '' || line.startsWith('#')) return;
  const actual = encryptedFormatOf(line);
  if (actual === format) return;
  if (actual === null) throw decryptFailed({ lineNumber }, 'plaintext record in an encrypted history');
  throw decryptFailed({ lineNumber }, `${actual} record in a ${format} history`);
}

const RECORD_HEAD = /^\s*(\d{1,15})\s*,[^,]*,\s*(.+?):\s/;

/**
 * The seq and user of a plain history line (`5, 2026-06-10 14:04:13+00:00, user@local.host: …`),
 * or null if the line does not start like a record. Reads only the prefix; the serializer owns
 * the full grammar.
 */
export function parseRecordBinding(line: string): RecordBinding | null {
  const m = RECORD_HEAD.exec(line);
  if (!m?.[1] || m[2] === undefined) return null;
  return { seq: Number(m[1]), user: m[2].trim() };
}

const SODIUM_VERSION = 1;
/**
 * Argon2id parameters of envelope/header v1: libsodium's "moderate" level, pinned as numbers so a
 * libsodium upgrade cannot change them.
 */
const ARGON2ID_OPSLIMIT = 3;
const ARGON2ID_MEMLIMIT = 256 * 1024 * 1024;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const ENVELOPE = /^!(\d{1,3}) (0|[1-9]\d{0,15}) (.+) ([A-Za-z0-9_-]+)$/;
const LOG_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Argon2id (libsodium `crypto_pwhash`, ALG_ARGON2ID13) of the passphrase with the log's 16-byte
 * salt: opslimit 3, memlimit 256 MiB (libsodium's MODERATE), 32-byte key. Takes about a second
 * and 256 MiB of memory by design; callers cache the result.
 */
export async function deriveSodiumKey(passphrase: string, salt: Uint8Array): Promise<Uint8Array> {
  const p = sodiumKdfParams(passphrase, salt);
  const sodium = await loadSodium();
  return sodium.crypto_pwhash(
    p.keyBytes,
    p.passphrase,
    p.salt,
    p.opslimit,
    p.memlimit,
    sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
}

/**
 * The validated inputs of {@link deriveSodiumKey} (Argon2id13 via libsodium `crypto_pwhash`), so
 * a caller can run the same derivation elsewhere (the CLI runs it in a worker thread: it blocks
 * for seconds). Throws `CryptoError FK_KEY_INVALID` as `deriveSodiumKey` does.
 */
export function sodiumKdfParams(
  passphrase: string,
  salt: Uint8Array,
): { passphrase: string; salt: Uint8Array; keyBytes: number; opslimit: number; memlimit: number } {
  if (passphrase.length === 0) throw keyInvalid('passphrase must not be empty');
  if (salt.length !== SALT_BYTES) throw keyInvalid(`sodium salt must be ${SALT_BYTES} bytes, got ${salt.length}`);
  return { passphrase, salt, keyBytes: KEY_BYTES, opslimit: ARGON2ID_OPSLIMIT, memlimit: ARGON2ID_MEMLIMIT };
}

/**
 * The key check a sodium header carries: HMAC-SHA-256 of a constant and the log id under the
 * history's key, first 16 bytes, base64url. Equal checks mean the same key (a wrong passphrase
 * is told apart from junk records before any record is read); the check reveals nothing usable
 * about the key.
 */
export function sodiumKeyCheck(key: Uint8Array, logId: string): string {
  return nodeCrypto().createHmac('sha256', key)
    .update(`fk-sodium key check\0${logId}`, 'utf8')
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/** Options of {@link createSodiumCipher}. */
export interface SodiumCipherOptions {
  /** 32 bytes from {@link deriveSodiumKey}. */
  readonly key: Uint8Array;
  /** Identifier of the history, from its header; authenticated with every record (1–128 of `[A-Za-z0-9._:@-]`). */
  readonly logId: string;
  /**
   * Source of the 24-byte nonce of each record. Random nonces are safe at XChaCha20's size.
   * @default node:crypto randomBytes
   */
  readonly randomBytes?: (n: number) => Uint8Array;
}

/**
 * A {@link Cipher} producing sodium envelopes: `!1 <seq> <user> <base64url(nonce ‖ ciphertext ‖ tag)>`.
 * The associated data binds the version, seq, user and log id, so a record moved to another
 * position, user or history fails to decrypt. Awaits `sodium.ready` once; the returned cipher is
 * synchronous.
 *
 * @example
 * const header = parseSodiumHeader(lines[0]!)!;
 * const key = await deriveSodiumKey(passphrase, header.salt);
 * const cipher = await createSodiumCipher({ key, logId: header.logId });
 * cipher.decryptLine(lines[1]!, { lineNumber: 2 });
 */
export async function createSodiumCipher(opts: SodiumCipherOptions): Promise<Cipher> {
  if (opts.key.length !== KEY_BYTES) throw keyInvalid(`sodium key must be ${KEY_BYTES} bytes, got ${opts.key.length}`);
  assertLogId(opts.logId);
  const sodium = await loadSodium();
  const key = new Uint8Array(opts.key);
  const logId = opts.logId;
  const random = opts.randomBytes ?? ((n: number) => nodeCrypto().randomBytes(n));
  const associatedData = createAssociatedData(logId);
  const opener = createEnvelopeOpener(sodium, key, logId);

  function encryptLine(plain: string, binding: RecordBinding): string {
    assertOneLine(plain);
    assertBinding(plain, binding);
    const nonce = random(NONCE_BYTES);
    if (nonce.length !== NONCE_BYTES) {
      throw new InputError('FK_INPUT_INVALID', `randomBytes returned ${nonce.length} bytes, expected ${NONCE_BYTES}`);
    }
    const ad = associatedData(SODIUM_VERSION, binding.seq, binding.user);
    const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, null, nonce, key);
    const payload = Buffer.concat([nonce, sealed]).toString('base64url');
    return `${SODIUM_PREFIX}${SODIUM_VERSION} ${binding.seq} ${binding.user} ${payload}`;
  }

  function decryptLine(stored: string, where?: RecordLocation): string {
    const m = ENVELOPE.exec(stored.trimEnd());
    if (!m?.[1] || !m[2] || !m[3] || !m[4]) throw decryptFailed(where, 'not a sodium record');
    const version = Number(m[1]);
    const seq = Number(m[2]);
    const user = m[3];
    const at: RecordLocation = { lineNumber: where?.lineNumber ?? null, seq: where?.seq ?? seq };
    if (version !== SODIUM_VERSION) throw decryptFailed(at, `unsupported sodium envelope version ${version}`);
    const payload = Buffer.from(m[4], 'base64url');
    if (payload.toString('base64url') !== m[4]) throw decryptFailed(at, 'malformed sodium envelope');
    if (payload.length < NONCE_BYTES + TAG_BYTES) throw decryptFailed(at, 'truncated sodium envelope');
    let plain: string;
    try {
      plain = opener.open(payload.subarray(NONCE_BYTES), payload.subarray(0, NONCE_BYTES), version, seq, user);
    } catch (err) {
      throw decryptFailed(
        at,
        'cannot decrypt sodium record (wrong passphrase, tampered, or moved from another seq, user or log)',
        err,
      );
    }
    const inner = parseRecordBinding(plain);
    if (inner?.seq !== seq || inner.user !== user) {
      throw decryptFailed(at, 'decrypted record does not match its envelope seq and user');
    }
    return plain;
  }

  const check = sodiumKeyCheck(key, logId);
  return { format: 'sodium', encryptLine, decryptLine, keyCheck: () => check };
}

/** Throws `InputError FK_INPUT_INVALID` unless `logId` is 1–128 characters of `[A-Za-z0-9._:@-]`. */
export function assertLogId(logId: string): void {
  if (!LOG_ID.test(logId)) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `log id must be 1-128 characters of [A-Za-z0-9._:@-], got '${logId.slice(0, 140)}'`,
    );
  }
}

function assertBinding(plain: string, binding: RecordBinding): void {
  if (!Number.isSafeInteger(binding.seq) || binding.seq < 0) {
    throw new InputError('FK_INPUT_INVALID', `record seq must be a non-negative integer, got '${binding.seq}'`);
  }
  const inner = parseRecordBinding(plain);
  if (inner === null) throw new InputError('FK_INPUT_INVALID', `seq ${binding.seq}: not a history record`);
  if (inner.seq !== binding.seq || inner.user !== binding.user) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `seq ${binding.seq}: binding (seq ${binding.seq}, user '${binding.user}') does not match the record (seq ` +
        `${inner.seq}, user '${inner.user}')`,
    );
  }
}
