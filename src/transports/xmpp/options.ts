import { randomBytes } from 'node:crypto';
import { InputError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { silentLogger } from '../../core/logger';

/** RSM page size asked of the archive; servers cap it (Prosody: `max_archive_query_results`, 50 by default). */
export const DEFAULT_PAGE_SIZE = 500;
/** How long one IQ request, or the server's echo of a published record, may take. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long `connect()` waits for the session to be ready (socket, auth, checks). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** First reconnect delay; doubled per failed attempt up to `retryHighMs`. */
export const DEFAULT_RETRY_LOW_MS = 1_000;
/** Cap of the reconnect delay. */
export const DEFAULT_RETRY_HIGH_MS = 30_000;
/** Prefix of the generated resource: `flowkeeper-<8 hex>`. */
export const DEFAULT_RESOURCE_PREFIX = 'flowkeeper-';
/** Largest page size we ever ask for; the server may cap it lower. */
export const MAX_PAGE_SIZE = 10_000;
/**
 * How many recently delivered record ids a subscription remembers to drop re-sent duplicates
 * (a publish re-sent after a reconnect lands close to its first copy in the archive).
 */
export const MAX_DEDUPE_WINDOW = 10_000;

/**
 * Options of {@link createXmppTransport}. The history of one user is the message archive
 * (XEP-0313) of one XMPP account; see docs/xmpp.md.
 */
export interface XmppTransportOptions {
  /**
   * Where to connect, as `@xmpp/client` takes it: `xmpp://host:5222` (STARTTLS when offered),
   * `xmpps://host:5223` (direct TLS), `ws://…`/`wss://…` (RFC 7395).
   */
  readonly service: string;
  /**
   * The account's domain (the part after `@`).
   * @default the host name of `service`
   */
  readonly domain?: string;
  /** The account's local part (before `@`). Use a dedicated account: every record is a message to self. */
  readonly username: string;
  /** The account's password. Never logged; masked in error messages. */
  readonly password: string;
  /**
   * Resource of this connection. Every concurrently connected client of the account needs its own.
   * @default `flowkeeper-` + 8 random hex digits
   */
  readonly resource?: string;
  /**
   * Records asked per archive page (RSM `<max/>`); the server may return fewer.
   * @default 500
   */
  readonly pageSize?: number;
  /**
   * Timeout of one IQ request and of a publish (until the server echoes the archived record).
   * @default 30000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Timeout of `connect()`: socket, authentication, resource binding and server checks.
   * @default 10000
   */
  readonly connectTimeoutMs?: number;
  /**
   * First reconnect delay after the connection dropped; doubled per failed attempt.
   * @default 1000
   */
  readonly retryLowMs?: number;
  /**
   * Upper bound of the reconnect delay.
   * @default 30000
   */
  readonly retryHighMs?: number;
  /**
   * Logger (pino's satisfies the type). Only ids, positions and counts are logged, never lines.
   * @default silentLogger
   */
  readonly logger?: Logger;
  /**
   * Never write to the archive: `publish` rejects with `FK_READ_ONLY`. (The archive preferences
   * are only ever read, never set.) XMPP has no read-only credentials: this is fk's promise, not
   * the server's.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** Options after validation, with every default applied. */
export interface NormalizedXmppOptions {
  readonly service: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  readonly resource: string;
  readonly pageSize: number;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly retryLowMs: number;
  readonly retryHighMs: number;
  readonly logger: Logger;
  readonly readOnly: boolean;
}

const SERVICE_RE = /^(xmpps?|wss?):\/\/[^\s/:@]+(:\d{1,5})?(\/\S*)?$/i;
// RFC 7622 §3.3/§3.2: no '@', '/', whitespace or quotes in a localpart; a domain has no '@' or '/'.
const LOCALPART_RE = /^[^\s@/"&'<>:]{1,1023}$/;
const DOMAIN_RE = /^[^\s@/]{1,1023}$/;

function invalid(field: string, shown: string, expected: string): InputError {
  return new InputError('FK_CONFIG_INVALID', `option '${field}' ${expected}, got '${shown}'`, {
    details: { field, value: shown },
  });
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/** A service URL as it may appear in a message: any `user:password@` part masked (STYLE §7). */
function showService(value: unknown): string {
  return show(value).replace(/^([a-z]+:\/\/)[^/@]*@/i, '$1***@');
}

function requireString(field: string, value: unknown, re: RegExp, expected: string, shown = show(value)): string {
  if (typeof value !== 'string' || !re.test(value)) throw invalid(field, shown, expected);
  return value;
}

function optionalInt(field: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, show(value), `must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** The host name of a service URL, which `@xmpp/client` also uses as the default domain. */
export function domainOfService(service: string): string {
  const rest = service.split('://')[1] ?? service;
  return rest.split(/[:/]/)[0] ?? rest;
}

/**
 * Validates {@link XmppTransportOptions} once and applies the defaults. Throws
 * `InputError FK_CONFIG_INVALID` naming the field and the bad value (a password is shown as `***`).
 * `randomHex` supplies the default resource suffix (tests pin it).
 */
export function normalizeXmppOptions(
  options: XmppTransportOptions,
  randomHex: () => string = () => randomBytes(4).toString('hex'),
): NormalizedXmppOptions {
  const service = requireString(
    'service',
    options.service,
    SERVICE_RE,
    'must be an xmpp://, xmpps://, ws:// or wss:// URL without credentials',
    showService(options.service),
  );
  const domain = requireString(
    'domain',
    options.domain ?? domainOfService(service),
    DOMAIN_RE,
    'must be a domain name',
  );
  const username = requireString('username', options.username, LOCALPART_RE, 'must be a JID local part');
  if (typeof options.password !== 'string' || options.password.length === 0) {
    throw invalid('password', options.password === '' ? '' : '***', 'must be a non-empty string');
  }
  const resource = requireString(
    'resource',
    options.resource ?? `${DEFAULT_RESOURCE_PREFIX}${randomHex()}`,
    /^\S{1,1023}$/,
    'must be a non-empty string without spaces',
  );
  const retryLowMs = optionalInt('retryLowMs', options.retryLowMs, DEFAULT_RETRY_LOW_MS, 1, 3_600_000);
  const retryHighMs = optionalInt('retryHighMs', options.retryHighMs, DEFAULT_RETRY_HIGH_MS, 1, 3_600_000);
  if (retryHighMs < retryLowMs) {
    throw invalid('retryHighMs', String(retryHighMs), `must be at least retryLowMs (${retryLowMs})`);
  }
  return {
    service,
    domain,
    username,
    password: options.password,
    resource,
    pageSize: optionalInt('pageSize', options.pageSize, DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
    requestTimeoutMs: optionalInt(
      'requestTimeoutMs',
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
      1,
      3_600_000,
    ),
    connectTimeoutMs: optionalInt(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
      1,
      3_600_000,
    ),
    retryLowMs,
    retryHighMs,
    logger: options.logger ?? silentLogger,
    readOnly: options.readOnly === true,
  };
}
