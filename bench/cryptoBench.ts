import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  createFernetCipher,
  createSodiumCipher,
  deriveFernetKey,
  deriveSodiumKey,
  parseRecordBinding,
  type Cipher,
  type RecordBinding,
} from '../src/core/crypto';
import { generateHistory } from '../test/support/generate';
import type { BenchResult } from './results';

/** One benchmark figure. */
export type CryptoBenchResult = BenchResult;

/**
 * Throughput of both E2E formats over a realistic generated history (default 10 000 records):
 * records/s to encrypt and to decrypt, stored size relative to plain, and the one-off key
 * derivation time of each KDF (PBKDF2 480k for Fernet, Argon2id 256 MiB for sodium).
 * Prints nothing; the bench runner aggregates.
 */
export async function runCryptoBench(records = 10_000): Promise<CryptoBenchResult[]> {
  const passphrase = 'correct horse battery staple';
  const lines = generateHistory(records);
  const bindings = lines.map((l) => parseRecordBinding(l) as RecordBinding);
  const results: CryptoBenchResult[] = [];

  let t = performance.now();
  const fernetKey = deriveFernetKey(passphrase);
  results.push({ name: 'crypto.fernet.kdf_pbkdf2', value: round(performance.now() - t), unit: 'ms' });

  const salt = new Uint8Array(randomBytes(16));
  t = performance.now();
  const sodiumKey = await deriveSodiumKey(passphrase, salt);
  results.push({ name: 'crypto.sodium.kdf_argon2id', value: round(performance.now() - t), unit: 'ms' });

  const ciphers: Cipher[] = [
    createFernetCipher(fernetKey),
    await createSodiumCipher({ key: sodiumKey, logId: 'bench-log' }),
  ];
  for (const cipher of ciphers) {
    warmUp(cipher, lines, bindings);
    t = performance.now();
    const stored = lines.map((l, i) => cipher.encryptLine(l, bindings[i]!));
    const encryptMs = performance.now() - t;
    t = performance.now();
    for (const [i, s] of stored.entries()) cipher.decryptLine(s, { lineNumber: i + 1 });
    const decryptMs = performance.now() - t;
    const plainBytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
    const storedBytes = stored.reduce((n, l) => n + Buffer.byteLength(l), 0);
    results.push(
      {
        name: `crypto.${cipher.format}.encrypt`,
        value: Math.round((lines.length / encryptMs) * 1000),
        unit: 'records/s',
      },
      {
        name: `crypto.${cipher.format}.decrypt`,
        value: Math.round((lines.length / decryptMs) * 1000),
        unit: 'records/s',
      },
      { name: `crypto.${cipher.format}.size_ratio`, value: round(storedBytes / plainBytes), unit: 'x plain' },
    );
  }
  return results;
}

function warmUp(cipher: Cipher, lines: readonly string[], bindings: readonly RecordBinding[]): void {
  for (let i = 0; i < Math.min(500, lines.length); i++) cipher.decryptLine(cipher.encryptLine(lines[i]!, bindings[i]!));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
