import type * as Status from './commands/status';
import type * as ErrorOutput from './errorOutput';
import type * as Program from './program';
import type { CommandLike } from './run';
import { watchStdout } from './stdout';

/**
 * `fk status` in its plain forms, `fk [--file <path>] status [--json]`, run without commander
 * (issue 12: commander and the program's definition are about a sixth of what `fk status` costs
 * above a bare Node). The same action runs with the same options, errors go to the same
 * reporter with the same exit codes, and every other command line (any other option or
 * argument, `--file=<path>`, a path starting with `-` or holding a control character, which
 * commander reads or refuses in its own ways) goes to commander as before.
 */

/** The options of a plain `fk [--file <path>] status [--json]`, or null for anything else. */
export function quickStatusArgs(argv: readonly string[]): { file?: string; json: boolean } | null {
  let i = 2;
  let file: string | undefined;
  if (argv[i] === '--file') {
    file = argv[i + 1];
    // commander reads these its own way (or refuses them): left to it
    if (file === undefined || file.startsWith('-') || /[\x00-\x1f\x7f]/.test(file)) return null;
    i += 2;
  }
  if (argv[i] !== 'status') return null;
  const rest = argv.length - i - 1;
  if (rest > 1 || (rest === 1 && argv[i + 1] !== '--json')) return null;
  return { ...(file !== undefined ? { file } : {}), json: rest === 1 };
}

/** Runs the status action for plain options: its exit code, as `program.main` returns it. */
export async function quickStatus(args: { file?: string; json: boolean }): Promise<number> {
  const { status } = require('./commands/status') as typeof Status;
  // commander's options objects: `--json` set or absent, and the global `--file`
  const opts = args.json ? { json: true } : {};
  const globals = args.file !== undefined ? { file: args.file, ...opts } : opts;
  const cmd = { name: () => 'status', optsWithGlobals: () => ({ ...globals }) } as CommandLike;
  try {
    await status(opts, cmd);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // program.main's reporter (it loads commander, for its own errors): same message, same code
    return (require('./program') as typeof Program).reportError(err, false);
  }
}

/**
 * Runs `fk status` for `argv` (process.argv) as a process, as `program.runCli` would (it settles
 * once `process.exitCode` is set); or returns null at once (nothing loaded, nothing run) when
 * `argv` is not a plain form.
 */
export function runQuickStatus(argv: readonly string[]): Promise<void> | null {
  const args = quickStatusArgs(argv);
  if (args === null) return null;
  // what runCli does first: a reader that stops early is not an error
  watchStdout();
  return quickStatus(args).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write((require('./errorOutput') as typeof ErrorOutput).errorLine(String(err)));
      process.exitCode = 1;
    },
  );
}
