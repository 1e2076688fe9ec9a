import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors';
import { isHistoryIdentity } from '../core/engine/serializer';
import { isEventType } from '../core/notify/notifications';
import { redactBackend, type Config, type EncryptionMode, type LogLevel } from '../app/config';

/**
 * The daemon's options, in one module: the resolved shape (`DaemonConfig`), the defaults of each
 * component (`DEFAULTS`), and `resolveDaemonConfig`, which reads flags > FK_* environment > the
 * `daemon` section of the config file > defaults once, validates, and names the field and the
 * value in every error (secrets and URL credentials masked).
 */

/** What to do with transitions that happened while no daemon ran (the timer never fires in the past). */
export type LatePolicy = 'drop' | 'send';

/** Capped exponential backoff of one target's deliveries. */
export interface RetryPolicy {
  readonly minMs: number;
  readonly maxMs: number;
  /** Give up on an event after this many failed attempts; 0 retries forever. */
  readonly maxAttempts: number;
}

/** Defaults, per component. */
export const DEFAULTS = Object.freeze({
  daemon: { name: 'default', late: 'drop' as LatePolicy, shutdownTimeoutMs: 5000, logLevel: 'info' as LogLevel },
  http: { host: '127.0.0.1', port: 8787 },
  dedupe: { ttlSeconds: 7 * 24 * 3600 },
  /**
   * Re-opening a history that cannot be read (a backend unreachable at start, a rewritten file):
   * 1 s doubling to 5 s, so the daemon follows again within seconds of the backend coming back.
   */
  session: { retry: { minMs: 1000, maxMs: 5000 } },
  delivery: { retry: { minMs: 500, maxMs: 60_000, maxAttempts: 0 } as RetryPolicy },
  hook: { timeoutMs: 10_000 },
  webhook: { timeoutMs: 5000 },
  amqp: { exchange: 'fk.events', timeoutMs: 10_000 },
  xmpp: { timeoutMs: 10_000 },
});

interface TargetCommon {
  /** Unique name (metrics label, outbox marks). @default the type, then type-2, … */
  readonly name: string;
  /** Event types let through: exact names, `prefix.*` or `*`. @default ['*'] */
  readonly events: readonly string[];
  readonly retry: RetryPolicy;
  /** Identifies the destination across daemons sharing the dedupe directory; null = this daemon only. */
  readonly dedupeKey: string | null;
}
export interface StdoutTargetConfig extends TargetCommon {
  readonly type: 'stdout';
}
export interface HookTargetConfig extends TargetCommon {
  readonly type: 'hook';
  /** Program and arguments, run without a shell; the event JSON goes to its stdin. */
  readonly argv: readonly string[];
  readonly timeoutMs: number;
}
export interface WebhookTargetConfig extends TargetCommon {
  readonly type: 'webhook';
  readonly url: string;
  /** HMAC-SHA256 key of the `X-Fk-Signature` header; null sends no signature. */
  readonly secret: string | null;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
}
export interface AmqpTargetConfig extends TargetCommon {
  readonly type: 'amqp';
  /** `amqp://user:pass@host:5672/vhost`, the password merged in from `password*`. */
  readonly url: string;
  readonly exchange: string;
  readonly timeoutMs: number;
}
export interface XmppTargetConfig extends TargetCommon {
  readonly type: 'xmpp';
  /** `xmpp://host:5222` (STARTTLS when offered) or `xmpps://host:5223`. */
  readonly service: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  /** The JID that receives the chat messages. */
  readonly to: string;
  readonly timeoutMs: number;
}
export type TargetConfig =
  StdoutTargetConfig | HookTargetConfig | WebhookTargetConfig | AmqpTargetConfig | XmppTargetConfig;
export type TargetType = TargetConfig['type'];

/** The resolved `daemon` section, frozen. Defaults in `DEFAULTS`. */
export interface DaemonConfig {
  readonly name: string;
  /** Outbox, checkpoints and daemon id. @default $XDG_STATE_HOME/flowkeeper-headless/daemon/<name> */
  readonly stateDir: string;
  /** Shared by the daemons that must not double-notify. @default $XDG_STATE_HOME/flowkeeper-headless/daemon/seen */
  readonly dedupeDir: string;
  readonly dedupeTtlMs: number;
  readonly late: LatePolicy;
  /** The local HTTP endpoint; null disables it. */
  readonly http: { readonly host: string; readonly port: number } | null;
  /** The whole graceful stop (drain, then closes) takes at most this long. */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** One session per user/backend. @default the global --user/--backend */
  readonly users: readonly Config[];
  /** @default one stdout target */
  readonly targets: readonly TargetConfig[];
}

/** `fk daemon` flags (global ones come from the program). */
export interface DaemonFlags {
  readonly name?: string | undefined;
  readonly stateDir?: string | undefined;
  readonly http?: string | undefined;
  readonly late?: string | undefined;
  readonly stdout?: boolean | undefined;
  readonly webhook?: string | undefined;
  readonly events?: string | undefined;
  readonly logLevel?: string | undefined;
  /** True when --user/--backend/--file was given: they override `daemon.users`. */
  readonly sessionFlags?: boolean | undefined;
}

type Obj = Readonly<Record<string, unknown>>;
const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const ENCRYPTION_MODES: readonly EncryptionMode[] = ['auto', 'off', 'fernet', 'sodium'];
const SECRET_KEYS = new Set(['secret', 'password']);
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const first = <T>(...vs: Array<T | undefined>): T | undefined => vs.find((v) => v !== undefined && v !== '');
const invalid = (message: string): InputError => new InputError('FK_CONFIG_INVALID', message);

/** Throws `FK_CONFIG_INVALID` naming the field and the value (secrets and URL credentials masked). */
function bad(path: string, expected: string, value: unknown): never {
  const key = path.slice(path.lastIndexOf('.') + 1);
  const shown = SECRET_KEYS.has(key)
    ? "'***'"
    : typeof value === 'string'
      ? `'${redactBackend(value)}'`
      : JSON.stringify(value);
  throw invalid(`${path} must be ${expected}, got ${shown}`);
}

/** Field readers over one object of the section; every error names `<at>.<key>`. */
function reader(obj: Obj, at: string, allowed: readonly string[]) {
  for (const k of Object.keys(obj))
    if (!allowed.includes(k))
      throw invalid(`${at}.${k} is not a known setting (expected one of ${allowed.join(', ')})`);
  const get = <T>(k: string, ok: (v: unknown) => boolean, expected: string): T | undefined => {
    const v = obj[k];
    if (v === undefined || v === null) return undefined;
    return ok(v) ? (v as T) : bad(`${at}.${k}`, expected, v);
  };
  return {
    str: (k: string) => get<string>(k, (v) => typeof v === 'string' && v !== '', 'a non-empty string'),
    int: (k: string, min: number) =>
      get<number>(k, (v) => Number.isInteger(v) && (v as number) >= min, `an integer >= ${min}`),
    strings: (k: string) =>
      get<string[]>(k, (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'), 'an array of strings'),
    obj: (k: string) => get<Obj>(k, isObj, 'an object'),
  };
}

/** An integer from the environment, or undefined. */
function envInt(env: NodeJS.ProcessEnv, name: string, unit: string): number | undefined {
  const v = env[name];
  if (v !== undefined && !/^\d+$/.test(v)) bad(name, `a number of ${unit}`, v);
  return v === undefined ? undefined : Number(v);
}

function parseHttp(v: unknown, path: string): DaemonConfig['http'] {
  if (v === false || v === 'off') return null;
  const { host, port } = DEFAULTS.http;
  if (typeof v === 'string') {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(v);
    if (!m || Number(m[3]) > 65535) bad(path, "'host:port' or 'off'", v);
    return { host: m[1] ?? (m[2] || host), port: Number(m[3]) };
  }
  if (!isObj(v)) bad(path, "'host:port', 'off', false or {host, port}", v);
  const r = reader(v, path, ['host', 'port']);
  const p = r.int('port', 0) ?? port;
  if (p > 65535) bad(`${path}.port`, 'a port number (0-65535)', p);
  return { host: r.str('host') ?? host, port: p };
}

function parseUsers(list: unknown, base: Config): Config[] {
  if (!Array.isArray(list) || list.length === 0) bad('daemon.users', 'a non-empty array of {user, backend}', list);
  const seen = new Set<string>();
  return list.map((u, i) => {
    const at = `daemon.users[${i}]`;
    if (!isObj(u)) bad(at, 'an object', u);
    const r = reader(u, at, ['user', 'backend', 'encryption', 'passphraseFile']);
    const user = r.str('user') ?? base.user;
    if (!isHistoryIdentity(user)) bad(`${at}.user`, 'an identity Flowkeeper reads (name@domain.tld)', user);
    const backend = r.str('backend') ?? base.backend;
    const encryption = r.str('encryption') ?? base.encryption;
    if (!(ENCRYPTION_MODES as readonly string[]).includes(encryption))
      bad(`${at}.encryption`, ENCRYPTION_MODES.join(' | '), encryption);
    if (seen.has(`${user}\n${backend}`))
      throw invalid(`${at}: user '${user}' on '${redactBackend(backend)}' is listed twice`);
    seen.add(`${user}\n${backend}`);
    const passphraseFile = r.str('passphraseFile') ?? base.passphraseFile;
    return Object.freeze({ ...base, user, backend, encryption: encryption as EncryptionMode, passphraseFile });
  });
}

/** A secret given inline, in a file (`<key>File`) or in an environment variable (`<key>Env`). */
function secretOf(t: Obj, key: string, at: string, env: NodeJS.ProcessEnv): string | null {
  const r = reader(t, at, Object.keys(t));
  const [inline, file, envName] = [r.str(key), r.str(`${key}File`), r.str(`${key}Env`)];
  if ([inline, file, envName].filter((x) => x !== undefined).length > 1)
    throw invalid(`${at}: give only one of ${key}, ${key}File, ${key}Env`);
  if (file !== undefined) {
    let s: string;
    try {
      s = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw invalid(`${at}.${key}File '${file}' cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return s !== '' ? s : bad(`${at}.${key}File`, 'a file holding the secret', file);
  }
  if (envName !== undefined) {
    const s = env[envName];
    if (!s) throw invalid(`${at}.${key}Env names '${envName}', which is not set`);
    return s;
  }
  return inline ?? null;
}

const COMMON = ['type', 'name', 'events', 'retry', 'dedupeKey'];
/** Per target type: its own keys, and how it reads them (and derives its dedupe key). */
const TARGET_KEYS: Record<TargetType, readonly string[]> = {
  stdout: [],
  hook: ['argv', 'timeoutMs'],
  webhook: ['url', 'secret', 'secretFile', 'secretEnv', 'timeoutMs', 'headers'],
  amqp: ['url', 'password', 'passwordFile', 'passwordEnv', 'exchange', 'timeoutMs'],
  xmpp: ['service', 'domain', 'username', 'password', 'passwordFile', 'passwordEnv', 'to', 'timeoutMs'],
};

function parseTarget(t: unknown, at: string, env: NodeJS.ProcessEnv): TargetConfig {
  if (!isObj(t)) bad(at, 'an object', t);
  const type = t.type as TargetType;
  if (typeof type !== 'string' || !(type in TARGET_KEYS))
    bad(`${at}.type`, "one of 'stdout', 'hook', 'webhook', 'amqp', 'xmpp'", t.type);
  const r = reader(t, at, [...COMMON, ...TARGET_KEYS[type]]);
  const events = r.strings('events') ?? ['*'];
  for (const f of events) {
    if (f !== '*' && !isEventType(f) && !(f.endsWith('.*') && f.length > 2))
      bad(`${at}.events`, "a list of event types, 'prefix.*' or '*'", f);
  }
  const retryObj = r.obj('retry');
  const rr = reader(retryObj ?? {}, `${at}.retry`, ['minMs', 'maxMs', 'maxAttempts']);
  const d = DEFAULTS.delivery.retry;
  const minMs = rr.int('minMs', 1) ?? d.minMs;
  const maxMs = rr.int('maxMs', 1) ?? Math.max(minMs, d.maxMs);
  if (maxMs < minMs) bad(`${at}.retry.maxMs`, `at least minMs (${minMs})`, maxMs);
  const retry = { minMs, maxMs, maxAttempts: rr.int('maxAttempts', 0) ?? d.maxAttempts };
  const common = { name: r.str('name') ?? type, events, retry };
  const key = (derived: string | null): string | null => r.str('dedupeKey') ?? derived;
  switch (type) {
    case 'stdout':
      return { type, ...common, dedupeKey: key(null) };
    case 'hook': {
      const argv = r.strings('argv');
      if (argv === undefined || argv.length === 0 || argv[0] === '')
        bad(`${at}.argv`, 'a non-empty array: program then arguments', t.argv);
      return {
        type,
        ...common,
        argv,
        timeoutMs: r.int('timeoutMs', 1) ?? DEFAULTS.hook.timeoutMs,
        dedupeKey: key(null),
      };
    }
    case 'webhook': {
      const url = r.str('url');
      if (url === undefined || !/^https?:\/\/[^/\s]+/i.test(url)) bad(`${at}.url`, 'an http:// or https:// URL', t.url);
      const headers = r.obj('headers') ?? {};
      for (const [h, v] of Object.entries(headers)) if (typeof v !== 'string') bad(`${at}.headers.${h}`, 'a string', v);
      const timeoutMs = r.int('timeoutMs', 1) ?? DEFAULTS.webhook.timeoutMs;
      const secret = secretOf(t, 'secret', at, env);
      return {
        type,
        ...common,
        url,
        secret,
        timeoutMs,
        headers: headers as Record<string, string>,
        dedupeKey: key(`webhook:${url}`),
      };
    }
    case 'amqp': {
      const raw = r.str('url');
      if (raw === undefined || !/^amqps?:\/\//i.test(raw)) bad(`${at}.url`, 'an amqp:// or amqps:// URL', t.url);
      const password = secretOf(t, 'password', at, env);
      const u = new URL(raw);
      if (password !== null) u.password = password;
      const exchange = r.str('exchange') ?? DEFAULTS.amqp.exchange;
      const timeoutMs = r.int('timeoutMs', 1) ?? DEFAULTS.amqp.timeoutMs;
      return {
        type,
        ...common,
        url: u.toString(),
        exchange,
        timeoutMs,
        dedupeKey: key(`amqp:${u.host}${u.pathname}#${exchange}`),
      };
    }
    case 'xmpp': {
      const service = r.str('service');
      if (service === undefined || !/^xmpps?:\/\/[^/\s]+$/i.test(service))
        bad(`${at}.service`, 'xmpp://host:port or xmpps://host:port', t.service);
      const username = r.str('username') ?? bad(`${at}.username`, 'a non-empty string', t.username);
      const to = r.str('to');
      if (to === undefined || !/^[^@\s/]+@[^@\s/]+(\/.+)?$/.test(to))
        bad(`${at}.to`, 'a JID like user@example.org', t.to);
      const password =
        secretOf(t, 'password', at, env) ??
        bad(`${at}.password`, 'given (password, passwordFile or passwordEnv)', undefined);
      const domain = r.str('domain') ?? new URL(service).hostname;
      const timeoutMs = r.int('timeoutMs', 1) ?? DEFAULTS.xmpp.timeoutMs;
      return { type, ...common, service, domain, username, password, to, timeoutMs, dedupeKey: key(`xmpp:${to}`) };
    }
  }
}

/** The targets of the file, plus those given by flags or environment (which replace a same-named one). */
function resolveTargets(section: Obj, flags: DaemonFlags, env: NodeJS.ProcessEnv): TargetConfig[] {
  const fromFile = section.targets ?? [];
  if (!Array.isArray(fromFile)) bad('daemon.targets', 'an array of targets', fromFile);
  const targets = fromFile.map((t, i) => parseTarget(t, `daemon.targets[${i}]`, env));
  const events = first(flags.events, env.FK_DAEMON_EVENTS)
    ?.split(',')
    .map((s) => s.trim());
  const extra: Obj[] = [];
  if (flags.stdout || env.FK_DAEMON_STDOUT === '1' || env.FK_DAEMON_STDOUT === 'true') extra.push({ type: 'stdout' });
  const webhook = first(flags.webhook, env.FK_DAEMON_WEBHOOK_URL);
  const signed = env.FK_DAEMON_WEBHOOK_SECRET ? { secretEnv: 'FK_DAEMON_WEBHOOK_SECRET' } : {};
  if (webhook !== undefined) extra.push({ type: 'webhook', url: webhook, ...signed });
  const at = flags.webhook !== undefined || flags.stdout ? 'option' : 'environment';
  for (const [i, t] of extra.entries()) {
    const parsed = parseTarget({ ...t, ...(events ? { events } : {}) }, `${at}[${i}]`, env);
    const same = targets.findIndex((x) => x.name === parsed.name);
    if (same >= 0) targets[same] = parsed;
    else targets.push(parsed);
  }
  if (targets.length === 0) targets.push(parseTarget({ type: 'stdout' }, 'default', env));
  // Unnamed targets are named after their type (webhook, webhook-2, …); a name given twice is an error.
  const names = new Map<string, number>();
  return targets.map((t, i) => {
    const n = (names.get(t.name) ?? 0) + 1;
    names.set(t.name, n);
    if (n === 1) return t;
    if (t.name !== t.type) throw invalid(`daemon.targets[${i}].name '${t.name}' is used twice`);
    return { ...t, name: `${t.name}-${n}` };
  });
}

function stateHome(env: NodeJS.ProcessEnv): string {
  const v = env.XDG_STATE_HOME;
  return join(v && v.startsWith('/') ? v : join(homedir(), '.local/state'), 'flowkeeper-headless', 'daemon');
}

/** Only the HTTP endpoint (what `fk daemon status` needs, without reading the targets' secrets). */
export function resolveDaemonHttp(
  base: Config,
  flags: Pick<DaemonFlags, 'http'>,
  env: NodeJS.ProcessEnv = process.env,
): DaemonConfig['http'] {
  const section = isObj(base.raw.daemon) ? base.raw.daemon : {};
  const raw = first<unknown>(flags.http, env.FK_DAEMON_HTTP, section.http);
  return raw === undefined ? { ...DEFAULTS.http } : parseHttp(raw, flags.http !== undefined ? '--http' : 'daemon.http');
}

/** Resolves and validates the daemon's options once (see the module comment). */
export function resolveDaemonConfig(
  base: Config,
  flags: DaemonFlags,
  env: NodeJS.ProcessEnv = process.env,
): DaemonConfig {
  const section = base.raw.daemon ?? {};
  if (!isObj(section)) bad('daemon', 'an object', section);
  const keys = ['name', 'stateDir', 'http', 'late', 'dedupe', 'shutdownTimeoutMs', 'logLevel', 'users', 'targets'];
  const r = reader(section, 'daemon', keys);
  const name = first(flags.name, env.FK_DAEMON_NAME, r.str('name')) ?? DEFAULTS.daemon.name;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) bad('daemon.name', 'letters, digits, _ . -', name);
  const dr = reader(r.obj('dedupe') ?? {}, 'daemon.dedupe', ['dir', 'ttlSeconds']);
  const ttlSeconds =
    envInt(env, 'FK_DAEMON_DEDUPE_TTL', 'seconds') ?? dr.int('ttlSeconds', 1) ?? DEFAULTS.dedupe.ttlSeconds;
  const late = first(flags.late, env.FK_DAEMON_LATE, r.str('late')) ?? DEFAULTS.daemon.late;
  if (late !== 'drop' && late !== 'send')
    bad(flags.late !== undefined ? '--late' : 'daemon.late', "'drop' or 'send'", late);
  const shutdownTimeoutMs =
    envInt(env, 'FK_DAEMON_SHUTDOWN_TIMEOUT_MS', 'milliseconds') ??
    r.int('shutdownTimeoutMs', 0) ??
    DEFAULTS.daemon.shutdownTimeoutMs;
  const rootLevel = typeof base.raw.logLevel === 'string' ? base.raw.logLevel : undefined;
  const logLevel = (first(flags.logLevel, env.FK_LOG_LEVEL, r.str('logLevel'), rootLevel) ??
    DEFAULTS.daemon.logLevel) as LogLevel;
  if (!LEVELS.includes(logLevel)) bad('log level', LEVELS.join(' | '), logLevel);
  const sessionFromEnv = env.FK_USER !== undefined || env.FK_BACKEND !== undefined;
  const users =
    flags.sessionFlags || sessionFromEnv || section.users === undefined ? [base] : parseUsers(section.users, base);
  return Object.freeze({
    name,
    stateDir: first(flags.stateDir, env.FK_DAEMON_STATE_DIR, r.str('stateDir')) ?? join(stateHome(env), name),
    dedupeDir: first(env.FK_DAEMON_DEDUPE_DIR, dr.str('dir')) ?? join(stateHome(env), 'seen'),
    dedupeTtlMs: ttlSeconds * 1000,
    late,
    http: resolveDaemonHttp(base, flags, env),
    shutdownTimeoutMs,
    logLevel,
    users,
    targets: resolveTargets(section, flags, env),
  });
}

/** The targets with secrets masked, for logs and `/status`. */
export function describeTargets(targets: readonly TargetConfig[]): Array<Record<string, unknown>> {
  return targets.map((t) => {
    const common = { name: t.name, type: t.type, events: t.events };
    if (t.type === 'webhook') return { ...common, url: redactBackend(t.url), signed: t.secret !== null };
    if (t.type === 'amqp') return { ...common, url: redactBackend(t.url), exchange: t.exchange };
    if (t.type === 'xmpp') return { ...common, service: t.service, to: t.to };
    if (t.type === 'hook') return { ...common, program: t.argv[0] };
    return common;
  });
}
