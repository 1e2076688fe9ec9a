import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { canonicalError, canonicalJson, canonicalState } from '../../core/canonical';
import { join } from 'node:path';
import { createFernetCipher, encryptedFormatOf } from '../../core/crypto';
import { getFernetKey } from '../keyCache';
import { configFrom } from '../run';
import { InputError } from '../../core/errors';
import { replay, type ReplayMode } from '../../core/replay';
import { splitLines } from '../../core/serializer';
import { parseInstant } from '../../core/time';

function parseNow(text: string | undefined): number {
  if (text === undefined) return Date.now() * 1000;
  const t = parseInstant(text);
  if (t === null) throw new InputError('FK_INPUT_INVALID', `option '--now' must be an ISO 8601 instant, got '${text}'`);
  return t;
}

export function register(program: Command): void {
  program
    .command('state')
    .description('replay a Flowkeeper history file and print its canonical state as JSON')
    .argument('<history>', 'Flowkeeper history file')
    .option('--now <iso8601>', 'pin the clock to this instant (default: the current time)')
    .option('--passphrase <passphrase>', 'end-to-end passphrase for encrypted lines (prefer FK_PASSPHRASE)')
    .option('--lenient', 'skip failing lines like the desktop app does, and list them')
    .action(async (history: string, opts: { now?: string; passphrase?: string; lenient?: boolean }, cmd: Command) => {
      const now = parseNow(opts.now);
      const mode: ReplayMode = opts.lenient ? 'lenient' : 'strict';
      let text: string;
      try {
        text = readFileSync(history, 'utf8');
      } catch (err) {
        throw new InputError('FK_INPUT_INVALID', `cannot read history file '${history}': ${(err as Error).message}`, { cause: err });
      }
      try {
        const passphrase = opts.passphrase ?? process.env.FK_PASSPHRASE;
        const lines = splitLines(text);
        const cipher =
          passphrase !== undefined && lines.some((l) => encryptedFormatOf(l) === 'fernet')
            ? createFernetCipher(await getFernetKey(passphrase, { cacheDir: join(configFrom(cmd).cacheDir, 'keys') }))
            : undefined;
        const state = replay(lines, { mode, now, cipher });
        process.stdout.write(`${canonicalJson(canonicalState(state, mode, now))}\n`);
      } catch (err) {
        process.stdout.write(`${canonicalJson(canonicalError(err))}\n`);
        process.exitCode = 3;
      }
    });
}
