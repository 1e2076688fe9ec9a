import { InputError } from '../../core/errors';
import { historyTopology, isValidHistoryName, MAX_AGE_PATTERN, type HistoryTopology } from './topology';

/** Options of `createAmqpTransport`. Validated once by `normalizeAmqpOptions`. */
export interface AmqpTransportOptions {
  /**
   * Broker URL, `amqp://user:password@host:5672/vhost` (or `amqps://…:5671`). Percent-encode
   * special characters in the user, password and vhost. The password never appears in errors or
   * logs; the endpoint is reported as `host:port/vhost`.
   */
  readonly url: string;
  /**
   * Name of the history (usually the Flowkeeper user): the stream queue is `fk.history.<history>`.
   * Letters, digits and `. _ @ + -`, starting with a letter or digit, at most 128 characters.
   */
  readonly history: string;
  /**
   * Stream retention (`x-max-age`, e.g. `'365D'`). A Flowkeeper history must stay complete, so
   * only set this for scratch histories. Changing it on an existing queue makes the declaration
   * fail (RabbitMQ refuses different arguments).
   * @default undefined (keep every entry forever)
   */
  readonly maxAge?: string;
  /**
   * Consumer prefetch (`basic.qos`) of each subscription; streams require one. Larger values read
   * a long history faster.
   * @default DEFAULT_PREFETCH (2000)
   */
  readonly prefetch?: number;
  /**
   * First reconnect delay in milliseconds; doubles after every failed attempt up to `retryHigh`.
   * @default DEFAULT_RETRY_LOW_MS (1000)
   */
  readonly retryLow?: number;
  /**
   * Largest reconnect delay in milliseconds.
   * @default DEFAULT_RETRY_HIGH_MS (30000)
   */
  readonly retryHigh?: number;
  /**
   * Limit, in milliseconds, on TCP connect plus AMQP handshake, and on learning the stream tail
   * when subscribing. Exceeding it fails with `FK_TRANSPORT_TIMEOUT`.
   * @default DEFAULT_CONNECT_TIMEOUT_MS (10000)
   */
  readonly connectTimeoutMs?: number;
  /**
   * AMQP heartbeat in seconds: a dead broker or network is noticed after about twice this.
   * 0 disables heartbeats.
   * @default DEFAULT_HEARTBEAT_SECONDS (15)
   */
  readonly heartbeatSeconds?: number;
  /**
   * How long a publish may wait for the broker's confirm, reconnects included, before it rejects
   * with `FK_TRANSPORT_TIMEOUT` (the line may still have been stored: retry with the same id,
   * readers drop the duplicate).
   * @default DEFAULT_PUBLISH_TIMEOUT_MS (60000)
   */
  readonly publishTimeoutMs?: number;
  /**
   * How long, in milliseconds, a subscription waits for the last chunk of a stream that looks
   * empty before it reports caught up (see `tailProbe.ts`). This is the delay of `onCaughtUp` on
   * an empty history.
   * @default DEFAULT_CAUGHT_UP_GRACE_MS (200)
   */
  readonly caughtUpGraceMs?: number;
  /**
   * How many recent entry ids each subscription remembers to drop duplicated publishes
   * (a publish retried after a lost confirm is stored twice).
   * @default DEFAULT_DEDUPE_WINDOW (10000)
   */
  readonly dedupeWindow?: number;
  /**
   * TLS material for `amqps://` (PEM contents, never paths: the library reads no files): `ca`
   * for a broker certificate not signed by a public CA, `cert` and `key` when the broker asks
   * for a client certificate. Refused with an `amqp://` URL.
   * @default undefined (Node's public CAs, no client certificate)
   */
  readonly tls?: AmqpTlsOptions;
  /**
   * Never write: no declare (a passive check that the stream exists instead) and `publish`
   * rejects with `FK_READ_ONLY`, so read permission on the queue is all the broker user needs.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** See {@link AmqpTransportOptions.tls}. */
export interface AmqpTlsOptions {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export const DEFAULT_PREFETCH = 2000;
export const DEFAULT_RETRY_LOW_MS = 1000;
export const DEFAULT_RETRY_HIGH_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_HEARTBEAT_SECONDS = 15;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 60_000;
export const DEFAULT_CAUGHT_UP_GRACE_MS = 200;
export const DEFAULT_DEDUPE_WINDOW = 10_000;
/** AMQP `shortstr` limit: a message id longer than this cannot be sent. */
export const MAX_ID_LENGTH = 255;

/** What amqplib's `connect` takes (its object form). Holds the password: never log it. */
export interface AmqpConnectParams {
  readonly protocol: 'amqp' | 'amqps';
  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** Percent-encoded, as amqplib unescapes it once more. */
  readonly vhost: string;
  readonly heartbeat: number;
}

/** Validated options with defaults applied. */
export interface NormalizedAmqpOptions {
  readonly connect: AmqpConnectParams;
  /** `host:port/vhost`, without credentials: for messages and logs. */
  readonly endpoint: string;
  readonly vhost: string;
  readonly history: string;
  readonly topology: HistoryTopology;
  readonly prefetch: number;
  readonly retryLow: number;
  readonly retryHigh: number;
  readonly connectTimeoutMs: number;
  readonly publishTimeoutMs: number;
  readonly caughtUpGraceMs: number;
  readonly dedupeWindow: number;
  readonly tls: AmqpTlsOptions;
  readonly readOnly: boolean;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'url',
  'history',
  'maxAge',
  'prefetch',
  'retryLow',
  'retryHigh',
  'connectTimeoutMs',
  'heartbeatSeconds',
  'publishTimeoutMs',
  'caughtUpGraceMs',
  'dedupeWindow',
  'tls',
  'readOnly',
]);

/** Replaces the password of a URL-looking string by `***`, even when the URL does not parse. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^@/?#]*@/i, '$1:***@');
}

function invalid(message: string): InputError {
  return new InputError('FK_CONFIG_INVALID', message);
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}

/** Largest delay `setTimeout` honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** AMQP `short` fields (prefetch count, heartbeat). */
const MAX_SHORT = 65_535;

function integer(
  raw: Readonly<Record<string, unknown>>,
  field: string,
  fallback: number,
  min: number,
  max: number = MAX_TIMER_MS,
): number {
  const value = raw[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`option '${field}' must be an integer from ${min} to ${max}, got '${show(value)}'`);
  }
  return value;
}

function parseUrl(value: unknown): { connect: Omit<AmqpConnectParams, 'heartbeat'>; endpoint: string; vhost: string } {
  if (typeof value !== 'string' || value === '') {
    throw invalid(`option 'url' must be an amqp:// or amqps:// URL, got '${show(value)}'`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`option 'url' must be an amqp:// or amqps:// URL, got '${maskUrl(value)}'`);
  }
  const protocol = url.protocol === 'amqp:' ? 'amqp' : url.protocol === 'amqps:' ? 'amqps' : null;
  if (protocol === null || url.hostname === '') {
    throw invalid(`option 'url' must be an amqp:// or amqps:// URL with a host, got '${maskUrl(value)}'`);
  }
  const port = url.port === '' ? (protocol === 'amqp' ? 5672 : 5671) : Number(url.port);
  const path = url.pathname.slice(1);
  if (path.includes('/')) {
    throw invalid(`option 'url' has vhost '${path}': percent-encode '/' in a vhost name as %2F`);
  }
  let vhost: string;
  let username: string;
  let password: string;
  try {
    vhost = path === '' ? '/' : decodeURIComponent(path);
    username = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch {
    throw invalid(`option 'url' has a bad percent-encoding, got '${maskUrl(value)}'`);
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const endpoint = `${url.hostname}:${port}/${vhost === '/' ? '' : vhost}`;
  return {
    connect: { protocol, hostname, port, username, password, vhost: encodeURIComponent(vhost) },
    endpoint,
    vhost,
  };
}

/**
 * Validates `createAmqpTransport` options once and applies the defaults. Throws
 * `InputError FK_CONFIG_INVALID` naming the option and the bad value (passwords masked).
 */
export function normalizeAmqpOptions(options: AmqpTransportOptions): NormalizedAmqpOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid(`amqp transport options must be an object, got '${show(options)}'`);
  }
  const raw = options as unknown as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(raw)) {
    if (!KNOWN_OPTIONS.has(key)) throw invalid(`unknown amqp transport option '${key}'`);
  }
  const { connect, endpoint, vhost } = parseUrl(raw.url);
  const history = raw.history;
  if (typeof history !== 'string' || !isValidHistoryName(history)) {
    throw invalid(
      `option 'history' must be 1-128 letters, digits or '._@+-' starting with a letter or digit, got ` +
        `'${show(history)}'`,
    );
  }
  const maxAge = raw.maxAge;
  if (maxAge !== undefined && (typeof maxAge !== 'string' || !MAX_AGE_PATTERN.test(maxAge))) {
    throw invalid(`option 'maxAge' must look like '7D' (a number and one of Y M D h m s), got '${show(maxAge)}'`);
  }
  const retryLow = integer(raw, 'retryLow', DEFAULT_RETRY_LOW_MS, 1);
  const retryHigh = integer(raw, 'retryHigh', Math.max(DEFAULT_RETRY_HIGH_MS, retryLow), 1);
  if (retryHigh < retryLow) {
    throw invalid(`option 'retryHigh' must be >= retryLow (${retryLow}), got '${retryHigh}'`);
  }
  const tls = parseTls(raw.tls, connect.protocol);
  if (raw.readOnly !== undefined && typeof raw.readOnly !== 'boolean') {
    throw invalid(`option 'readOnly' must be true or false, got '${show(raw.readOnly)}'`);
  }
  return Object.freeze({
    tls,
    readOnly: raw.readOnly === true,
    connect: Object.freeze({
      ...connect,
      heartbeat: integer(raw, 'heartbeatSeconds', DEFAULT_HEARTBEAT_SECONDS, 0, MAX_SHORT),
    }),
    endpoint,
    vhost,
    history,
    topology: historyTopology(history, maxAge),
    prefetch: integer(raw, 'prefetch', DEFAULT_PREFETCH, 1, MAX_SHORT),
    retryLow,
    retryHigh,
    connectTimeoutMs: integer(raw, 'connectTimeoutMs', DEFAULT_CONNECT_TIMEOUT_MS, 1),
    publishTimeoutMs: integer(raw, 'publishTimeoutMs', DEFAULT_PUBLISH_TIMEOUT_MS, 1),
    caughtUpGraceMs: integer(raw, 'caughtUpGraceMs', DEFAULT_CAUGHT_UP_GRACE_MS, 0),
    dedupeWindow: integer(raw, 'dedupeWindow', DEFAULT_DEDUPE_WINDOW, 1, 10_000_000),
  });
}

function parseTls(value: unknown, protocol: 'amqp' | 'amqps'): AmqpTlsOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) {
    throw invalid(`option 'tls' must be an object, got '${show(value)}'`);
  }
  const tls = value as Readonly<Record<string, unknown>>;
  const out: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(tls)) {
    if (k !== 'ca' && k !== 'cert' && k !== 'key') throw invalid(`unknown amqp transport option 'tls.${k}'`);
    if (v === undefined) continue;
    if (typeof v !== 'string' && !Buffer.isBuffer(v)) {
      throw invalid(`option 'tls.${k}' must be PEM text, got '${show(v)}'`);
    }
    out[k] = v;
  }
  if ((out.cert === undefined) !== (out.key === undefined)) {
    throw invalid(`options 'tls.cert' and 'tls.key' go together`);
  }
  if (Object.keys(out).length > 0 && protocol !== 'amqps') throw invalid(`option 'tls' needs an amqps:// URL`);
  return Object.freeze(out);
}
