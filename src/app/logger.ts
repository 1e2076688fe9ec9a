import pino from 'pino';
import type { Logger } from '../core/logger';
import type { LogLevel } from './config';

/**
 * The only `pino()` call (STYLE §8): JSON lines to stderr, synchronously so nothing is lost when
 * a short-lived command exits. Secrets are redacted as a backstop.
 */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      redact: { paths: ['password', '*.password', 'key', '*.key', 'passphrase', '*.passphrase', 'credentials'], censor: '[redacted]' },
    },
    pino.destination({ dest: 2, sync: true }),
  ) as unknown as Logger;
}
