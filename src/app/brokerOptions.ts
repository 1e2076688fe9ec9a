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

type Section = Readonly<Record<string, unknown>>;

function section(config: Config, name: 'amqp' | 'xmpp', keys: readonly string[]): Section {
  const raw = config.raw[name];
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad(`config file: '${name}'`, 'an object', raw);
  const unknown = Object.keys(raw).find((k) => !keys.includes(k));
  if (unknown !== undefined) {
    const known = keys.join(', ');
    throw new InputError('FK_CONFIG_INVALID', `config file: unknown key '${name}.${unknown}' (known: ${known})`);
  }
  return raw as Section;
}

/** What a setting must look like: a check, its wording, and how its environment string is read. */
interface Rule<T> {
  readonly is: (v: unknown) => v is T;
  readonly expected: string;
  readonly parse?: (s: string) => unknown;
}

/** Where settings come from: the environment, and one section of the config file. */
interface Source {
  readonly env: NodeJS.ProcessEnv;
  readonly file: Section;
  readonly name: 'amqp' | 'xmpp';
}

/** The first value given: the environment variable `envName` (parsed), else `<section>.<key>`. */
function pick<T>(src: Source, envName: string, key: string, rule: Rule<T>): T | undefined {
  const env = src.env[envName];
  if (env !== undefined && env !== '') {
    const v = rule.parse ? rule.parse(env) : env;
    return rule.is(v) ? v : bad(`environment variable ${envName}`, rule.expected, env);
  }
  const v = src.file[key];
  if (v === undefined) return undefined;
  return rule.is(v) ? v : bad(`config file: '${src.name}.${key}'`, rule.expected, v);
}

const integer = (min: number, max: number, unit: string): Rule<number> => ({
  is: (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max,
  expected: `${unit} from ${min} to ${max}`,
  parse: Number,
});
const MAX_AGE: Rule<string> = {
  is: (v: unknown): v is string => typeof v === 'string' && /^[1-9][0-9]{0,8}[YMDhms]$/.test(v),
  expected: "an age like '3650D' (a number and one of Y M D h m s)",
};
const PATH: Rule<string> = {
  is: (v: unknown): v is string => typeof v === 'string' && v !== '',
  expected: 'a file path',
};
const BOOLEAN: Rule<boolean> = {
  is: (v: unknown): v is boolean => typeof v === 'boolean',
  expected: 'true or false',
  parse: (s) => (/^(1|true|yes|on)$/i.test(s) ? true : /^(0|false|no|off)$/i.test(s) ? false : s),
};
const RECONNECT_MAX = integer(100, 3_600_000, 'milliseconds');

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new InputError('FK_CONFIG_INVALID', `cannot read the ${what} '${path}': ${why}`, { cause: err });
  }
}

/** The `amqp` settings of `config` (files named there are read now: a missing CA is an error at once). */
export function resolveAmqpSettings(config: Config, env: NodeJS.ProcessEnv = process.env): AmqpSettings {
  const src: Source = { env, file: section(config, 'amqp', AMQP_KEYS), name: 'amqp' };
  const heartbeatSeconds = pick(src, 'FK_AMQP_HEARTBEAT', 'heartbeatSeconds', integer(0, 65_535, 'seconds'));
  const maxAge = pick(src, 'FK_AMQP_MAX_AGE', 'maxAge', MAX_AGE);
  const caFile = pick(src, 'FK_AMQP_CA_FILE', 'caFile', PATH);
  const certFile = pick(src, 'FK_AMQP_CERT_FILE', 'certFile', PATH);
  const keyFile = pick(src, 'FK_AMQP_KEY_FILE', 'keyFile', PATH);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const message =
      'a client certificate needs both amqp.certFile (FK_AMQP_CERT_FILE) and amqp.keyFile (FK_AMQP_KEY_FILE)';
    throw new InputError('FK_CONFIG_INVALID', message);
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
    reconnectMaxMs: pick(src, 'FK_RECONNECT_MAX_MS', 'reconnectMaxMs', RECONNECT_MAX) ?? DEFAULT_RECONNECT_MAX_MS,
  });
}

/** The `xmpp` settings of `config`. */
export function resolveXmppSettings(config: Config, env: NodeJS.ProcessEnv = process.env): XmppSettings {
  const src: Source = { env, file: section(config, 'xmpp', XMPP_KEYS), name: 'xmpp' };
  return Object.freeze({
    srv: pick(src, 'FK_XMPP_SRV', 'srv', BOOLEAN) ?? true,
    reconnectMaxMs: pick(src, 'FK_RECONNECT_MAX_MS', 'reconnectMaxMs', RECONNECT_MAX) ?? DEFAULT_RECONNECT_MAX_MS,
  });
}
