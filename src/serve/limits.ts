import { InputError } from '../core/errors';
import { DEFAULT_AUTH_LIMITS } from './authLimiter';

/** The abuse limits of `fk serve` (docs/serve.md "Limits"); every one has a flag. */
export interface ServeLimits {
  /** Largest frame and largest line, in bytes (a Fernet line is about twice its plaintext). */
  readonly maxLineBytes: number;
  /** Open connections at once, over all accounts (unauthenticated ones included). */
  readonly maxConnections: number;
  /** Open connections of one account. */
  readonly maxConnectionsPerAccount: number;
  /** A connection that has not authenticated by then is closed. */
  readonly authTimeoutMs: number;
  /** A connection that sent nothing for this long is closed (the desktop app pings every 3 s). */
  readonly idleTimeoutMs: number;
  /** WebSocket-level pings find dead peers; one unanswered for this long closes the connection. */
  readonly pingIntervalMs: number;
  /** A connection whose unsent output grows past this is too slow to follow: it is closed. */
  readonly maxBufferedBytes: number;
  /** Lines received and not processed yet, per connection. */
  readonly maxQueuedLines: number;
  /** Failed sign-ins allowed per client address, and per account, in `authWindowMs`. */
  readonly authFailuresPerAddress: number;
  readonly authFailuresPerAccount: number;
  readonly authWindowMs: number;
  /** How long an account's history stays open after its last connection left. */
  readonly lingerMs: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  maxLineBytes: 64 * 1024,
  maxConnections: 1000,
  maxConnectionsPerAccount: 16,
  authTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  pingIntervalMs: 30_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxQueuedLines: 1000,
  authFailuresPerAddress: DEFAULT_AUTH_LIMITS.perAddress,
  authFailuresPerAccount: DEFAULT_AUTH_LIMITS.perAccount,
  authWindowMs: DEFAULT_AUTH_LIMITS.windowMs,
  lingerMs: 30_000,
};

/** Flag names of the limits, for messages and the CLI. */
export const LIMIT_FLAGS: Readonly<Record<keyof ServeLimits, string>> = {
  maxLineBytes: '--max-line-bytes',
  maxConnections: '--max-connections',
  maxConnectionsPerAccount: '--max-connections-per-account',
  authTimeoutMs: '--auth-timeout',
  idleTimeoutMs: '--idle-timeout',
  pingIntervalMs: '--ping-interval',
  maxBufferedBytes: '--max-buffered-bytes',
  maxQueuedLines: '--max-queued-lines',
  authFailuresPerAddress: '--auth-failures-per-address',
  authFailuresPerAccount: '--auth-failures-per-account',
  authWindowMs: '--auth-window',
  lingerMs: '--linger',
};

/** Durations are given in seconds (`30`, `1.5`); sizes and counts as integers. */
const SECONDS: ReadonlySet<keyof ServeLimits> = new Set([
  'authTimeoutMs',
  'idleTimeoutMs',
  'pingIntervalMs',
  'authWindowMs',
  'lingerMs',
]);

/** Applies the given values (strings from flags) over the defaults; throws naming the bad flag. */
export function resolveLimits(given: Partial<Record<keyof ServeLimits, string | undefined>>): ServeLimits {
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof ServeLimits>) {
    const raw = given[key];
    if (raw === undefined) continue;
    const n = Number(raw);
    const seconds = SECONDS.has(key);
    const valid = raw.trim() !== '' && Number.isFinite(n) && n > 0 && (seconds ? n <= 86_400 : Number.isSafeInteger(n));
    if (!valid) {
      throw new InputError(
        'FK_CONFIG_INVALID',
        `${LIMIT_FLAGS[key]} must be a positive ${seconds ? 'number of seconds (at most 86400)' : 'integer'}` +
          `, got '${raw}'`,
      );
    }
    out[key] = seconds ? Math.round(n * 1000) : n;
  }
  return out as unknown as ServeLimits;
}
