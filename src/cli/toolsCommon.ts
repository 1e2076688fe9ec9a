import { join } from 'node:path';
import type { Command } from 'commander';
import type { Micros } from '../core/clock';
import type { Cipher } from '../core/crypto';
import { InputError } from '../core/errors';
import type { StrategyRecord } from '../core/engine/records';
import { formatRecord } from '../core/engine/serializer';
import { parseInstant } from '../core/engine/time';
import type { Config } from '../app/config';
import { readBackendHistory, readHistoryFile, type HistoryRead } from '../app/historySource';
import { createHistoryCipher } from '../app/historyCipher';
import { createLogger } from '../app/logger';
import { requirePassphrase } from '../app/passphrase';
import { createProgress } from '../app/progress';
import { configFrom } from './run';

/** Helpers shared by the history tools (export, import, stats, migrate). */

/** `--now` (ISO 8601) or the current time, in microseconds. */
export function parseNowOption(text: string | undefined): Micros {
  if (text === undefined) return Date.now() * 1000;
  const t = parseInstant(text);
  if (t === null) throw new InputError('FK_INPUT_INVALID', `option '--now' must be an ISO 8601 instant, got '${text}'`);
  return t;
}

/**
 * Reads the history a tool works on: `file` when given (read-only, any encryption), else the
 * configured backend (read-only: see historySource.ts). Draws a progress bar while it reads.
 */
export async function readToolSource(
  cmd: Command,
  file: string | undefined,
  now: Micros,
  passphraseFile?: string,
): Promise<{ read: HistoryRead; config: Config }> {
  const config = configFrom(cmd);
  const logger = createLogger(config.logLevel, { cmd: cmd.name() });
  const progress = createProgress({ label: 'reading history' });
  const opts = { passphraseFile: passphraseFile ?? config.passphraseFile, cacheDir: config.cacheDir, now, progress };
  try {
    const read =
      file !== undefined ? await readHistoryFile(file, opts) : await readBackendHistory(config, logger, opts);
    return { read, config };
  } finally {
    progress.done();
  }
}

/** The Fernet cipher for `--encrypt`: the passphrase from the usual sources, the key from the cache. */
export async function fernetForOutput(config: Config, purpose: string, passphraseFile?: string): Promise<Cipher> {
  const passphrase = await requirePassphrase({ passphraseFile: passphraseFile ?? config.passphraseFile }, purpose);
  return createHistoryCipher(passphrase, { format: 'fernet' }, { cacheDir: join(config.cacheDir, 'keys') });
}

/** Serializes records the way Flowkeeper writes its data file, optionally encrypted, one per line. */
export function historyText(records: readonly StrategyRecord[], cipher?: Cipher): string {
  if (records.length === 0) return '';
  const lines = records.map((r) => {
    const plain = formatRecord(r);
    return cipher ? cipher.encryptLine(plain, { seq: r.seq, user: r.user }) : plain;
  });
  return `${lines.join('\n')}\n`;
}

export const percent = (part: number, whole: number): string =>
  whole === 0 ? '0%' : `${((part / whole) * 100).toFixed(1)}%`;
