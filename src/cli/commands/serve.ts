import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { redactBackend, type LogLevel } from '../../app/config';
import { createLogger } from '../../app/logger';
import { InputError } from '../../core/errors';
import { onShutdown } from '../../daemon/lifecycle';
import { LIMIT_FLAGS, resolveLimits, type ServeLimits } from '../../serve/limits';
import { print, printJson, type GlobalFlags } from '../run';

interface RunOptions {
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  allowOrigin?: string[];
  trustProxy?: boolean;
  /** The limits, under commander's names (`limitsFromOptions`). */
  [limit: string]: unknown;
}

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `--backend` (global flag) or FK_SERVE_BACKEND; never the desktop data file default. */
function backendOf(cmd: Command): string {
  const g = cmd.optsWithGlobals<GlobalFlags>();
  const backend = g.backend ?? process.env.FK_SERVE_BACKEND;
  if (!backend) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      'fk serve needs --backend <directory | amqp://host/vhost | xmpp://domain> (or FK_SERVE_BACKEND)',
    );
  }
  return backend;
}

function logLevelOf(cmd: Command): LogLevel {
  const level = cmd.optsWithGlobals<GlobalFlags>().logLevel ?? process.env.FK_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(level))
    throw new InputError('FK_CONFIG_INVALID', `--log-level must be one of ${LEVELS.join(', ')}, got '${level}'`);
  return level as LogLevel;
}

/**
 * The limits given as flags: commander keeps `--auth-timeout` as `authTimeout`, the limit is
 * `authTimeoutMs` (seconds on the command line, milliseconds inside).
 */
export function limitsFromOptions(opts: Readonly<Record<string, unknown>>): ServeLimits {
  const given: Partial<Record<keyof ServeLimits, string>> = {};
  for (const key of Object.keys(LIMIT_FLAGS) as Array<keyof ServeLimits>) {
    const value = opts[new Option(`${LIMIT_FLAGS[key]} <n>`).attributeName()];
    if (typeof value === 'string') given[key] = value;
  }
  return resolveLimits(given);
}

/** `host:port`, `[v6]:port` or `:port`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new InputError('FK_CONFIG_INVALID', `--listen must be host:port (e.g. 127.0.0.1:8888), got '${text}'`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `${flag} '${path}' cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause: err },
    );
  }
}

async function run(opts: RunOptions, cmd: Command): Promise<void> {
  const { createServeBackend, startServer } = await import('../../serve');
  const backend = backendOf(cmd);
  const listen = parseListen(opts.listen ?? process.env.FK_SERVE_LISTEN ?? '127.0.0.1:8888');
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new InputError('FK_CONFIG_INVALID', '--tls-cert and --tls-key go together');
  }
  const tls =
    opts.tlsCert && opts.tlsKey
      ? { cert: readPem(opts.tlsCert, '--tls-cert'), key: readPem(opts.tlsKey, '--tls-key') }
      : undefined;
  const limits = limitsFromOptions(opts);
  const logger = createLogger(logLevelOf(cmd), { cmd: 'serve' });
  const shutdown = onShutdown();
  const serveBackend = await createServeBackend(backend, logger);
  try {
    const server = await startServer(
      {
        ...listen,
        ...(tls ? { tls } : {}),
        allowedOrigins: opts.allowOrigin ?? [],
        trustProxy: opts.trustProxy === true,
        limits,
      },
      { backend: serveBackend, logger },
    );
    process.stderr.write(`fk serve: listening on ${server.url} (backend ${redactBackend(backend)})\n`);
    const signal = await shutdown.requested;
    logger.info({ signal }, 'shutdown requested');
    await server.close();
  } catch (err) {
    await serveBackend.close().catch(() => undefined);
    throw err;
  } finally {
    shutdown.dispose();
  }
  setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
}

/** `fk serve` (= `fk serve run`) and `fk serve user add|remove|list`. */
export function register(program: Command): void {
  const serve = program
    .command('serve')
    .description("serve Flowkeeper's sync protocol (WebSocket) over a backend (see docs/serve.md)");

  const runCmd = serve
    .command('run', { isDefault: true })
    .description('listen for Flowkeeper clients; --backend <directory | amqp://host/vhost | xmpp://domain> (default)')
    .option('--listen <host:port>', 'address to listen on (env FK_SERVE_LISTEN, default 127.0.0.1:8888)')
    .option('--tls-cert <file>', 'PEM certificate chain: serve wss:// (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--allow-origin <origin...>',
      'browser origins allowed to connect (requests with another Origin header are refused)',
    )
    .option('--trust-proxy', 'take the client address from X-Forwarded-For (behind a reverse proxy)');
  const help: Record<keyof ServeLimits, string> = {
    maxLineBytes: 'largest frame and line in bytes (default 65536)',
    maxConnections: 'open connections in all (default 1000)',
    maxConnectionsPerAccount: 'open connections per account (default 16)',
    authTimeoutMs: 'seconds a connection has to sign in (default 10)',
    idleTimeoutMs: 'seconds without a message before a connection is closed (default 300)',
    pingIntervalMs: 'seconds between WebSocket pings finding dead peers (default 30)',
    maxBufferedBytes: 'unsent bytes after which a slow connection is closed (default 16777216)',
    maxQueuedLines: 'received lines waiting per connection (default 1000)',
    authFailuresPerAddress: 'failed sign-ins per client address and window (default 10)',
    authFailuresPerAccount: 'failed sign-ins per account and window (default 20)',
    authWindowMs: 'seconds of the sign-in failure window (default 60)',
    lingerMs: 'seconds an account history stays open after its last connection (default 30)',
  };
  for (const key of Object.keys(LIMIT_FLAGS) as Array<keyof ServeLimits>)
    runCmd.option(`${LIMIT_FLAGS[key]} <n>`, help[key]);
  runCmd.action((opts: RunOptions, cmd: Command) => run(opts, cmd));

  const user = serve.command('user').description("the file backend's accounts (brokers keep their own)");
  user
    .command('add')
    .description('add an account or set its password (password: FK_SERVE_PASSWORD, --password-file or a prompt)')
    .argument('<email>', 'the e-mail the client signs in with')
    .option('--password-file <file>', 'file whose first line is the password')
    .action(async (email: string, opts: { passwordFile?: string }, cmd: Command) => {
      const { addUser, createPasswordHasher, newPassword } = await import('../../serve');
      const password = await newPassword(email, opts.passwordFile);
      const hasher = createPasswordHasher();
      try {
        const { replaced } = await addUser(backendOf(cmd), email, password, hasher);
        print(replaced ? `password of ${email} changed` : `account ${email} added`);
      } finally {
        await hasher.close();
      }
    });
  user
    .command('remove')
    .description('remove an account (its history stays unless --delete-history)')
    .argument('<email>')
    .option('--delete-history', "also delete the account's history file")
    .action(async (email: string, opts: { deleteHistory?: boolean }, cmd: Command) => {
      const { removeUser } = await import('../../serve');
      const { historyDeleted } = await removeUser(backendOf(cmd), email, {
        deleteHistory: opts.deleteHistory === true,
      });
      print(`account ${email} removed${historyDeleted ? ', history deleted' : ''}`);
    });
  user
    .command('list')
    .description('list the accounts and their history files')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { listUsers } = await import('../../serve');
      const users = listUsers(backendOf(cmd));
      if (opts.json) printJson(users);
      else users.forEach((u) => print(`${u.email}\t${u.history ?? '(no history yet)'}`));
    });
}
