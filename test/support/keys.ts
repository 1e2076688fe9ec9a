/**
 * Pinned keys (known-answer vectors) for tests that need a key but are not about deriving it: a
 * Fernet key is PBKDF2 480k and a sodium key Argon2id 256 MiB (seconds on a busy machine), so
 * each such test would otherwise spend most of its time deriving. The derivation tests
 * (test/unit/core/crypto/crypto.test.ts) derive the keys of {@link PASSPHRASE} and check them
 * against this table, so a wrong entry fails there; the other entries are wrong keys for tests of
 * decryption failures, whose only job is to differ.
 */
export const PASSPHRASE = 'correct horse battery staple';

/** The salt the sodium keys below were derived with: bytes 0, 3, 6, … 45. */
export const SODIUM_SALT: Uint8Array = Uint8Array.from({ length: 16 }, (_, i) => i * 3);

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** Flowkeeper's PBKDF2-HMAC-SHA256 key of each passphrase (deriveFernetKey). */
const FERNET: Readonly<Record<string, string>> = {
  [PASSPHRASE]: '00e558cb901574bc77a04cbe4cc7dc9e73fe34323d12fa4a9d89e6a03f12d895',
};

/** The Argon2id key of each passphrase with {@link SODIUM_SALT} (deriveSodiumKey). */
const SODIUM: Readonly<Record<string, string>> = {
  [PASSPHRASE]: '3f3dee7a9d9d10086ea4c569f0b5e429fb3196d6b910809084aae3dd887c3d9d',
  'incorrect horse': 'a5ed1bc26493417a3725f5a6ff3f8cb699cbb2164defa6cc6de87f228c31f619',
};

function pinned(table: Readonly<Record<string, string>>, passphrase: string): Uint8Array {
  const h = table[passphrase];
  if (h === undefined) throw new Error(`no pinned key for passphrase '${passphrase}': add its vector`);
  return hex(h);
}

/** deriveFernetKey(passphrase), pinned. */
export const pinnedFernetKey = (passphrase: string): Uint8Array => pinned(FERNET, passphrase);

/** deriveSodiumKey(passphrase, SODIUM_SALT), pinned. */
export const pinnedSodiumKey = (passphrase: string): Uint8Array => pinned(SODIUM, passphrase);
