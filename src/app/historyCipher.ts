import { createFernetCipher, createSodiumCipher, type Cipher } from '../core/crypto';
import { getFernetKey, getSodiumKey, type KeyCacheOptions } from './keyCache';

/**
 * Which cipher a history takes: Flowkeeper's Fernet, keyed by the passphrase alone, or our sodium
 * envelope, keyed by the passphrase and the salt of the log's `# fk-sodium` header (whose log id
 * every record is bound to).
 */
export type CipherChoice =
  { readonly format: 'fernet' } | { readonly format: 'sodium'; readonly salt: Uint8Array; readonly logId: string };

/**
 * The one way a program turns a passphrase into a history's cipher: the key from the key cache
 * (derived once per passphrase and salt, see keyCache.ts), then the cipher of that format.
 */
export async function createHistoryCipher(
  passphrase: string,
  choice: CipherChoice,
  cache: KeyCacheOptions,
): Promise<Cipher> {
  if (choice.format === 'fernet') return createFernetCipher(await getFernetKey(passphrase, cache));
  return createSodiumCipher({ key: await getSodiumKey(passphrase, choice.salt, cache), logId: choice.logId });
}
