#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands';
import { exitCodeFor } from './exitCodes';
import { FkError } from '../core/errors';

/** Builds the `fk` program; every command registers itself (see commands/index.ts). */
export function buildProgram(): Command {
  const program = new Command('fk')
    .description('Headless Flowkeeper: Pomodoro history on a file, RabbitMQ or XMPP')
    .version('0.1.0')
    .option('--debug', 'print stack traces of unexpected errors')
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Prints `fk: <message>` and returns the exit code (STYLE §6). */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const code = exitCodeFor(err);
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`fk: ${message}\n`);
  if (debug || !(err instanceof FkError)) {
    if (err instanceof Error && err.stack && debug) process.stderr.write(`${err.stack}\n`);
  }
  return code;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err, argv.includes('--debug'));
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`fk: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
