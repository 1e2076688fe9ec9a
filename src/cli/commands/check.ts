import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createFernetCipher, encryptedFormatOf } from '../../core/crypto';
import { InputError } from '../../core/errors';
import { replay } from '../../core/engine/replay';
import { splitLines } from '../../core/engine/serializer';
import { getFernetKey } from '../../app/keyCache';
import { requirePassphrase } from '../../app/passphrase';
import { configFrom, print, printJson } from '../run';

export function register(program: Command): void {
  program
    .command('check')
    .description('validate a Flowkeeper history file and name every problem by line')
    .argument('[history]', 'history file (default: the configured data file)')
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      const path = file ?? config.backend;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new InputError('FK_INPUT_INVALID', `cannot read history file '${path}': ${(err as Error).message}`, { cause: err });
      }
      const lines = splitLines(text);
      const encrypted = lines.some((l) => encryptedFormatOf(l) === 'fernet');
      const cipher = encrypted
        ? createFernetCipher(
            await getFernetKey(await requirePassphrase({ passphraseFile: config.passphraseFile }, `to check '${path}'`), {
              cacheDir: join(config.cacheDir, 'keys'),
            }),
          )
        : undefined;
      const now = Date.now() * 1000;
      // Lenient replay finds every failing line and, on the side, every sequence problem strict
      // mode (the default of fk state, and fk itself) would stop at.
      const state = replay(lines, { mode: 'lenient', now, ...(cipher ? { cipher } : {}) });
      const problems = [...state.skipped, ...(state.sequenceProblems ?? [])].map((s) => ({
        line: s.lineNumber,
        seq: s.seq,
        code: s.error.code,
        message: s.error.message,
      }));
      problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
      if (opts.json) printJson({ file: path, records: state.lastSeq, problems });
      else if (problems.length === 0) print(`${path}: ok, ${lines.length} lines, last sequence ${state.lastSeq}`);
      else for (const p of problems) print(`${path}:${p.line ?? '?'}: ${p.message} [${p.code}]`);
      if (problems.length > 0) process.exitCode = 3;
    });
}
