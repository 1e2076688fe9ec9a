import { Command, CommanderError } from 'commander';
import { commandModulesFor } from './commands';
import { exitCodeFor } from './exitCodes';
import { FkError } from '../core/errors';
import { commanderErrorText, errorLine, refuseControlCharacters } from './errorOutput';
import { watchStdout } from './stdout';

/**
 * Builds the `fk` program for `argv`: the global options, and the command `argv` names (all of
 * them for help or an unknown name), each loaded on demand (see commands/index.ts).
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('fk')
    .description('Headless Flowkeeper: Pomodoro history on a file, RabbitMQ or XMPP')
    .version('0.1.0')
    .option('--file <path>', 'Flowkeeper data file (default: $XDG_DATA_HOME/flowkeeper/flowkeeper-data.txt)')
    .option('--backend <url>', 'a file path, amqp://user@host/vhost or xmpp://user@domain (env FK_BACKEND)')
    .option('--create', 'create a new history file even in a directory that does not exist yet')
    .option('--read-only', 'never write to the backend: read permission is enough (env FK_READ_ONLY)')
    .option('--user <identity>', 'who acts (env FK_USER, default user@local.host)')
    .option('--encryption <mode>', 'auto | off | fernet (files) | sodium (brokers) (env FK_ENCRYPTION)')
    .option('--passphrase-file <path>', 'file holding the end-to-end passphrase (or env FK_PASSPHRASE)')
    .option('--config <path>', 'config file (default: $XDG_CONFIG_HOME/flowkeeper-headless/config.json)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent (env FK_LOG_LEVEL)')
    .option('--debug', 'print stack traces of unexpected errors')
    .configureOutput({ outputError: (text, write) => write(commanderErrorText(text)) })
    .hook('preAction', refuseControlCharacters)
    .showHelpAfterError('(run fk --help for usage)')
    .exitOverride();
  const name = commandName(program, argv);
  const versionOnly = name === undefined && (argv.includes('-V') || argv.includes('--version'));
  if (!versionOnly) for (const m of commandModulesFor(name)) (await m.load())(program);
  return program;
}

/** The first operand of `argv` after the global options (and their values), if any. */
export function commandName(program: Command, argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return argv[i + 1];
    if (!arg.startsWith('-') || arg === '-') return arg;
    const flag = arg.split('=')[0];
    const opt = program.options.find((o) => o.long === flag || o.short === flag);
    if (opt && (opt.required || opt.optional) && !arg.includes('=')) i++;
  }
  return undefined;
}

/** Prints `fk: <message>` and returns the exit code (STYLE §6). */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const code = exitCodeFor(err);
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(errorLine(message));
  if (err instanceof Error && err.stack && (debug || !(err instanceof FkError))) {
    if (debug) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('fk: this is a bug; run again with --debug for the stack trace\n');
  }
  return code;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err, argv.includes('--debug'));
  }
}

/** Runs `fk` with `argv` (process.argv) as a process: output, then exit code (`main.ts`). */
export function runCli(argv: readonly string[]): void {
  // `fk category list | head -3`: a reader that stops early is not an error (nor a stack trace).
  watchStdout();
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(errorLine(String(err)));
      process.exitCode = 1;
    },
  );
}
