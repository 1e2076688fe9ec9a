import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { canonicalError, canonicalJson, writeCanonicalState } from '../../core/engine/canonical';
import { join } from 'node:path';
import type { Cipher } from '../../core/crypto';
import { backendKind } from '../../app/session';
import { configFrom } from '../run';
import { InputError, TransportError } from '../../core/errors';
import { replay, type ReplayMode, type ReplayState } from '../../core/engine/replay';
import { anyLineStartsWith, linesOfFd } from '../../transports/file';
import { parseInstant } from '../../core/engine/time';

function parseNow(text: string | undefined): number {
  if (text === undefined) return Date.now() * 1000;
  const t = parseInstant(text);
  if (t === null) throw new InputError('FK_INPUT_INVALID', `option '--now' must be an ISO 8601 instant, got '${text}'`);
  return t;
}

/**
 * Writes to stdout synchronously in ~16 KB pieces (a 100k-line state is over 20 MB of JSON).
 * Small pieces die young: pieces of 1 MB outlived the young generation, were promoted, and grew
 * the old one by their size until the next full collection (peak RSS of 100k lines 137 -> 111 MiB,
 * 30k lines 84 -> 76 MiB, and less time spent copying them).
 */
const FLUSH_AT = 1 << 14;

function writeChunked(produce: (write: (chunk: string) => void) => void): void {
  let parts: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (size === 0) return;
    writeAll(parts.join(''));
    parts = [];
    size = 0;
  };
  produce((chunk) => {
    parts.push(chunk);
    size += chunk.length;
    if (size >= FLUSH_AT) flush();
  });
  parts.push('\n');
  size += 1;
  flush();
}

function writeAll(text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length;) {
    try {
      off += writeSync(1, buf, off, buf.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

/**
 * The cipher of an encrypted history file, from the passphrase the user configured; none without
 * one (the replay then stops at the first encrypted line: FK_KEY_INVALID).
 */
async function fernetCipher(passphraseFile: string | undefined, cacheDir: string): Promise<Cipher | undefined> {
  const { resolvePassphrase } = await import('../../app/passphrase');
  const passphrase = await resolvePassphrase({ passphraseFile, input: { isTTY: false } as never });
  if (passphrase === null) return undefined;
  const { createHistoryCipher } = await import('../../app/historyCipher');
  return createHistoryCipher(passphrase, { format: 'fernet' }, { cacheDir: join(cacheDir, 'keys') });
}

/** Replays a history file through the record engine (`strict`, or `lenient` like the desktop app). */
async function replayFile(
  history: string,
  mode: ReplayMode,
  now: number,
  passphraseFile: string | undefined,
  cacheDir: string,
): Promise<ReplayState> {
  // Streamed one chunk at a time: memory is bounded by the state, not by the file.
  let fd: number;
  try {
    fd = openSync(history, 'r');
    if (fstatSync(fd).isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
  } catch (err) {
    throw new InputError('FK_INPUT_INVALID', `cannot read history file '${history}': ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    // Never a secret on argv (visible in ps): --passphrase-file, FK_PASSPHRASE or FK_PASSPHRASE_FILE.
    // The key code loads only for an encrypted file (OpenSSL, the key cache: ~3 MB of a small run's memory).
    const cipher = anyLineStartsWith(history, '+') ? await fernetCipher(passphraseFile, cacheDir) : undefined;
    return replay(linesOfFd(fd), { mode, now, ...(cipher ? { cipher } : {}) });
  } finally {
    closeSync(fd);
  }
}

export function register(program: Command): void {
  program
    .command('state')
    .description('replay a history (file or broker) and print its canonical state as JSON')
    .argument('[history]', 'history file or backend URL (default: the configured backend)')
    .option('--now <iso8601>', 'pin the clock to this instant (default: the current time)')
    .option('--lenient', 'skip failing lines like the desktop app does, and list them (files)')
    .action(async (history: string | undefined, opts: { now?: string; lenient?: boolean }, cmd: Command) => {
      const now = parseNow(opts.now);
      const mode: ReplayMode = opts.lenient ? 'lenient' : 'strict';
      const base = configFrom(cmd);
      const config = history === undefined ? base : { ...base, backend: history };
      let state: ReplayState;
      try {
        if (backendKind(config.backend) === 'file') {
          state = await replayFile(config.backend, mode, now, config.passphraseFile, config.cacheDir);
        } else {
          // A broker log is read with the race rule every client applies (lost races, rejected and
          // unauthentic records ignored), then sealed at `now` like a file.
          const { createLogger } = await import('../../app/logger');
          const { readBackendHistory } = await import('../../app/historySource');
          const logger = createLogger(config.logLevel, { cmd: 'state' });
          const read = await readBackendHistory(config, logger, {
            passphraseFile: config.passphraseFile,
            cacheDir: config.cacheDir,
            now,
            keepRecords: false,
          });
          state = read.state;
        }
      } catch (err) {
        // A replay error is part of the answer (canonical JSON, exit 3); not reaching the backend is not.
        if (err instanceof InputError || err instanceof TransportError) throw err;
        process.stdout.write(`${canonicalJson(canonicalError(err))}\n`);
        process.exitCode = 3;
        return;
      }
      writeChunked((write) => writeCanonicalState(state, mode, now, write));
    });
}
