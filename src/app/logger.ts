import type { LogFn, Logger } from '../core/logger';
import type { LogLevel } from './config';

type Method = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const RANK: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};
const METHODS: readonly Method[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const noop: LogFn = () => undefined;

/**
 * The only `pino()` call (STYLE §8): JSON lines to stderr, synchronously so nothing is lost when
 * a short-lived command exits. Secrets are redacted as a backstop.
 *
 * pino (about 30 modules, worker_threads and async_hooks with them) is loaded on the first line
 * actually written: a command that logs nothing at its level (the usual case at `warn`) never
 * pays for it. Levels below `level` are no-ops without loading anything.
 */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return lazyLogger(level, () => createPino(level, bindings));
}

function createPino(level: LogLevel, bindings: Record<string, unknown>): Logger {
  // Deferred on purpose (see createLogger): a synchronous require, since log calls are synchronous.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { pino } = require('pino') as typeof import('pino');
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      redact: {
        paths: ['password', '*.password', 'key', '*.key', 'passphrase', '*.passphrase', 'credentials'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: 2, sync: true }),
  ) as unknown as Logger;
}

/** A logger that becomes `make()` on its first enabled call; children defer the same way. */
function lazyLogger(level: LogLevel, make: () => Logger): Logger {
  let real: Logger | null = null;
  const resolve = (): Logger => (real ??= make());
  const logger = { child: (b: Record<string, unknown>) => lazyLogger(level, () => resolve().child(b)) } as Logger;
  for (const m of METHODS) {
    logger[m] =
      RANK[m] < RANK[level]
        ? noop
        : (((...args: unknown[]) => (resolve()[m] as (...a: unknown[]) => void)(...args)) as LogFn);
  }
  return logger;
}
