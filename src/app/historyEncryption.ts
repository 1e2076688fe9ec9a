import { encryptedFormatOf } from '../core/crypto/lineFormat';
import { parseSodiumHeader, type SodiumHeader } from '../core/crypto/sodiumHeader';
import type { HistoryEncryption } from '../core/engine/engine';
import { isSeedLine, isServedHeader } from '../core/engine/seed';
import { isEmptyLine } from '../core/engine/serializer';

/** What the start of a history says about its encryption. */
export interface DetectedEncryption {
  /** `plain` also when nothing decides it (an empty history, or one holding only a seed). */
  readonly encryption: HistoryEncryption;
  readonly header: SodiumHeader | null;
  /** The history opens with a sync server's plaintext seed (`core/engine/seed.ts`). */
  readonly seeded: boolean;
  /** A file `fk serve` writes (its `# fk-serve` header): the protocol's sequencing rule (`race`) applies. */
  readonly served: boolean;
  /** A record (or a sodium header) fixed the encryption; false for an empty or only seeded history. */
  readonly decided: boolean;
}

/**
 * The encryption a history declares: its sodium header, else its first record line. A sync
 * server's plaintext seed as the first record does not count (the record engine's one exception).
 */
export function detectEncryption(lines: Iterable<string>): DetectedEncryption {
  let n = 0;
  let seeded = false;
  let served = false;
  for (const line of lines) {
    n++;
    const format = encryptedFormatOf(line);
    if (format !== null) return { encryption: format, header: null, seeded, served, decided: true };
    if (!isEmptyLine(line)) {
      if (!seeded && isSeedLine(line)) {
        seeded = true;
        continue;
      }
      return { encryption: 'plain', header: null, seeded, served, decided: true };
    }
    if (!seeded && isServedHeader(line)) served = true;
    const header = seeded ? null : parseSodiumHeader(line, n);
    if (header !== null) return { encryption: 'sodium', header, seeded, served, decided: true };
  }
  return { encryption: 'plain', header: null, seeded, served, decided: false };
}
