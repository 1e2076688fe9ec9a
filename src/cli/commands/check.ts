import { closeSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createFernetCipher } from '../../core/crypto';
import { InputError } from '../../core/errors';
import { replay } from '../../core/engine/replay';
import { anyLineStartsWith, linesOfFd } from '../../transports/file';
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
      // Streamed a chunk at a time: a history of any size is checked in memory bounded by its state.
      let fd: number;
      try {
        fd = openSync(path, 'r');
        if (fstatSync(fd).isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
      } catch (err) {
        throw new InputError('FK_INPUT_INVALID', `cannot read history file '${path}': ${(err as Error).message}`, { cause: err });
      }
      const encrypted = anyLineStartsWith(path, '+');
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
      let lineCount = 0;
      const lines = (function* counted(): Generator<string> {
        for (const line of linesOfFd(fd)) {
          lineCount++;
          yield line;
        }
      })();
      let state;
      try {
        state = replay(lines, { mode: 'lenient', now, ...(cipher ? { cipher } : {}) });
      } finally {
        closeSync(fd);
      }
      const problems = [...state.skipped, ...(state.sequenceProblems ?? [])].map((s) => ({
        line: s.lineNumber,
        seq: s.seq,
        code: s.error.code,
        message: s.error.message,
      }));
      problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
      if (opts.json) printJson({ file: path, records: state.lastSeq, problems });
      else if (problems.length === 0) print(`${path}: ok, ${lineCount} lines, last sequence ${state.lastSeq}`);
      else for (const p of problems) print(`${path}:${p.line ?? '?'}: ${p.message} [${p.code}]`);
      if (problems.length > 0) process.exitCode = 3;
    });
}
