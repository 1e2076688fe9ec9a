import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors';
import type { Config } from './config';

/**
 * Broker settings of `fk` and the daemon beyond the backend URL: the config file's `amqp` and
 * `xmpp` sections and their `FK_*` variables (environment > file > defaults, like every setting;
 * see `config.ts`). Validated once; an unknown key in a section is an error naming it.
 *
 * ```json
 * { "amqp": { "heartbeatSeconds": 15, "maxAge": "3650D", "caFile": "/etc/ssl/rabbit-ca.pem",
 *             "certFile": "/etc/fk/client.pem", "keyFile": "/etc/fk/client.key", "reconnectMaxMs": 5000 },
 *   "xmpp": { "srv": true, "reconnectMaxMs": 5000 } }
 * ```
 */
export interface AmqpSettings {
  /** AMQP heartbeat in seconds (0 = off). `FK_AMQP_HEARTBEAT`. @default 15 (the transport's) */
  readonly heartbeatSeconds?: number;
  /** Stream retention (`x-max-age`) for a history fk creates. `FK_AMQP_MAX_AGE`. @default none: keep forever */
  readonly maxAge?: string;
  /** PEM contents of the CA certificate(s) that sign the broker's (`amqps://`). From `FK_AMQP_CA_FILE`. */
  readonly ca?: Buffer;
  /** PEM client certificate, when the broker asks for one. From `FK_AMQP_CERT_FILE`. */
  readonly cert?: Buffer;
  /** PEM private key of the client certificate. From `FK_AMQP_KEY_FILE`. */
  readonly key?: Buffer;
  /** Cap of the reconnect delay in ms. `FK_RECONNECT_MAX_MS`. @default 5000 */
  readonly reconnectMaxMs: number;
}

export interface XmppSettings {
  /** Look up `_xmpp-client._tcp.<domain>` when the URL names no port and no service. `FK_XMPP_SRV`. @default true */
  readonly srv: boolean;
  /** Cap of the reconnect delay in ms. `FK_RECONNECT_MAX_MS`. @default 5000 */
  readonly reconnectMaxMs: number;
}

/**
 * Reconnect cap for fk's sessions. The transports' own default (30 s) left a daemon offline up to
 * ~28 s after its broker came back (issue 11); one reconnect attempt per 5 s (with jitter) costs a
 * down broker nothing.
 */
export const DEFAULT_RECONNECT_MAX_MS = 5000;

const AMQP_KEYS = ['heartbeatSeconds', 'maxAge', 'caFile', 'certFile', 'keyFile', 'reconnectMaxMs'];
const XMPP_KEYS = ['srv', 'reconnectMaxMs'];

function bad(where: string, expected: string, got: unknown): never {
  throw new InputError('FK_CONFIG_INVALID', `${where} must be ${expected}, got ${JSON.stringify(got)}`);
}

function section(config: Config, name: 'amqp' | 'xmpp', keys: readonly string[]): Readonly<Record<string, unknown>> {
  const raw = config.raw[name];
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad(`config file: '${name}'`, 'an object', raw);
  const unknown = Object.keys(raw).find((k) => !keys.includes(k));
  if (unknown !== undefined) {
    throw new InputError('FK_CONFIG_INVALID', `config file: unknown key '${name}.${unknown}' (known: ${keys.join(', ')})`);
  }
  return raw as Readonly<Record<string, unknown>>;
}

/** The first value given: environment (a string, parsed by `parse`) or the config file. */
function pick<T>(
  env: string | undefined,
  envName: string,
  file: unknown,
  fileName: string,
  check: (v: unknown) => v is T,
  expected: string,
  parse: (s: string) => unknown = (s) => s,
): T | undefined {
  if (env !== undefined && env !== '') {
    const v = parse(env);
    return check(v) ? v : bad(`environment variable ${envName}`, expected, env);
  }
  if (file === undefined) return undefined;
  return check(file) ? file : bad(`config file: '${fileName}'`, expected, file);
}

const isInt =
  (min: number, max: number) =>
  (v: unknown): v is number =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const isMaxAge = (v: unknown): v is string => typeof v === 'string' && /^[1-9][0-9]{0,8}[YMDhms]$/.test(v);
const isPath = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const parseBool = (s: string): unknown => (/^(1|true|yes|on)$/i.test(s) ? true : /^(0|false|no|off)$/i.test(s) ? false : s);

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError('FK_CONFIG_INVALID', `cannot read the ${what} '${path}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
    });
  }
}

function reconnectMaxMs(env: NodeJS.ProcessEnv, file: unknown, name: string): number {
  return (
    pick(env.FK_RECONNECT_MAX_MS, 'FK_RECONNECT_MAX_MS', file, name, isInt(100, 3_600_000), 'milliseconds from 100 to 3600000', Number) ??
    DEFAULT_RECONNECT_MAX_MS
  );
}

/** The `amqp` settings of `config` (files named there are read now: a missing CA is an error at once). */
export function resolveAmqpSettings(config: Config, env: NodeJS.ProcessEnv = process.env): AmqpSettings {
  const s = section(config, 'amqp', AMQP_KEYS);
  const heartbeatSeconds = pick(env.FK_AMQP_HEARTBEAT, 'FK_AMQP_HEARTBEAT', s.heartbeatSeconds, 'amqp.heartbeatSeconds', isInt(0, 65_535), 'seconds from 0 to 65535', Number);
  const maxAge = pick(env.FK_AMQP_MAX_AGE, 'FK_AMQP_MAX_AGE', s.maxAge, 'amqp.maxAge', isMaxAge, "an age like '3650D' (a number and one of Y M D h m s)");
  const caFile = pick(env.FK_AMQP_CA_FILE, 'FK_AMQP_CA_FILE', s.caFile, 'amqp.caFile', isPath, 'a file path');
  const certFile = pick(env.FK_AMQP_CERT_FILE, 'FK_AMQP_CERT_FILE', s.certFile, 'amqp.certFile', isPath, 'a file path');
  const keyFile = pick(env.FK_AMQP_KEY_FILE, 'FK_AMQP_KEY_FILE', s.keyFile, 'amqp.keyFile', isPath, 'a file path');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new InputError('FK_CONFIG_INVALID', 'a client certificate needs both amqp.certFile (FK_AMQP_CERT_FILE) and amqp.keyFile (FK_AMQP_KEY_FILE)');
  }
  const ca = readPem(caFile, 'CA certificate file');
  const cert = readPem(certFile, 'client certificate file');
  const key = readPem(keyFile, 'client key file');
  return Object.freeze({
    ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    reconnectMaxMs: reconnectMaxMs(env, s.reconnectMaxMs, 'amqp.reconnectMaxMs'),
  });
}

/** The `xmpp` settings of `config`. */
export function resolveXmppSettings(config: Config, env: NodeJS.ProcessEnv = process.env): XmppSettings {
  const s = section(config, 'xmpp', XMPP_KEYS);
  const srv = pick(env.FK_XMPP_SRV, 'FK_XMPP_SRV', s.srv, 'xmpp.srv', isBool, 'true or false', parseBool) ?? true;
  return Object.freeze({ srv, reconnectMaxMs: reconnectMaxMs(env, s.reconnectMaxMs, 'xmpp.reconnectMaxMs') });
}
