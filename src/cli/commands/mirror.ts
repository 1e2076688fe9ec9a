import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/errors';
import type { LogLevel } from '../../app/config';
import { createLogger } from '../../app/logger';
import { onShutdown } from '../../daemon/lifecycle';
import { createMirror } from '../../mirror';
import { configFrom, nameArg, type GlobalFlags } from '../run';

interface MirrorFlags {
  from: string;
  to: string;
  stateDir?: string;
}

const HELP = `
Keeps a broker history an exact copy of the Flowkeeper desktop app's data file, live: every record
the desktop app appends is copied, as it is, encrypted for the broker (FK_PASSPHRASE,
FK_PASSPHRASE_FILE or --passphrase-file; the same passphrase opens a desktop file the app
encrypts). A daemon on the broker history (fk --backend <url> daemon) then rings and forwards the
pomodoros started in the desktop app. The file is only read. --user must be the desktop app's
user (default user@local.host): it names the broker history.

Restarts of the mirror (kill -9 included), of the broker or of the desktop app neither duplicate
nor skip a record: at every start the broker history's records are compared with the file's, and
the position is kept in $XDG_STATE_HOME/flowkeeper-headless/mirror. When the two differ (another
record at the same place: someone wrote to the broker history; or the file was rewritten by the
desktop app's Repair or compaction) the mirror stops with exit 3 (FK_HISTORY_DIVERGED) and copies
nothing more; so does a file line that Flowkeeper's file rule refuses (fk check --file FILE).

Only this direction: actions taken on the broker history never reach the desktop file, since the
desktop app appends to its file without a lock and would number its next record like one fk wrote
at the same moment (docs/mirror.md in the package).

Example:
  FK_AMQP_PASSWORD=... FK_PASSPHRASE_FILE=~/.config/fk-pass \\
    fk mirror --from ~/.local/share/flowkeeper/flowkeeper-data.txt --to amqp://alice@rabbit.example/
`;

function stateDirOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined) return flag;
  const v = env.XDG_STATE_HOME;
  return join(v && v.startsWith('/') ? v : join(homedir(), '.local/state'), 'flowkeeper-headless', 'mirror');
}

export function register(program: Command): void {
  program
    .command('mirror')
    .description("copy the desktop app's data file into a broker history, live, until stopped")
    .requiredOption('--from <file>', "the desktop app's data file (only read)", nameArg("option '--from'"))
    .requiredOption(
      '--to <url>',
      'the broker history: amqp://user@host/vhost or xmpp://user@domain',
      nameArg("option '--to'"),
    )
    .option(
      '--state-dir <dir>',
      'where the position is kept (default $XDG_STATE_HOME/flowkeeper-headless/mirror)',
      nameArg("option '--state-dir'"),
    )
    .addHelpText('after', HELP)
    .action(async (flags: MirrorFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalFlags>();
      if (g.backend !== undefined || g.file !== undefined) {
        const msg = 'fk mirror takes its histories from --from and --to, not --backend or --file';
        throw new InputError('FK_INPUT_INVALID', msg);
      }
      const base = configFrom(cmd);
      // Like the daemon, a long-running program says what it does unless told otherwise.
      const explicit = g.logLevel ?? process.env.FK_LOG_LEVEL ?? (base.raw.logLevel as string | undefined);
      const logLevel: LogLevel = explicit === undefined ? 'info' : base.logLevel;
      const logger = createLogger(logLevel, { cmd: 'mirror' });
      const mirror = createMirror({
        from: flags.from,
        broker: { ...base, backend: flags.to, logLevel },
        stateDir: stateDirOf(flags.stateDir),
        logger,
      });
      const shutdown = onShutdown();
      try {
        const first = await Promise.race([mirror.start().then(() => 'started' as const), shutdown.requested]);
        if (first === 'started') {
          const why = await Promise.race([mirror.failed.then((err) => ({ err })), shutdown.requested]);
          if (typeof why === 'object') throw why.err;
          logger.info({ signal: why, ...mirror.status() }, 'mirror stopping');
        }
      } finally {
        await mirror.stop();
        shutdown.dispose();
      }
      // A connection that never finished closing must not keep a stopped mirror alive.
      setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
    });
}
