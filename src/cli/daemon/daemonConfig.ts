import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isEventType } from '../../core/events';
import { InputError } from '../../core/errors';
import { redactBackend, type Config, type LogLevel } from '../config';
import {
  DEFAULT_AMQP_EXCHANGE,
  DEFAULT_AMQP_TIMEOUT_MS,
  DEFAULT_DAEMON_NAME,
  DEFAULT_DEDUPE_TTL_MS,
  DEFAULT_HOOK_TIMEOUT_MS,
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
  DEFAULT_RETRY,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  DEFAULT_XMPP_TIMEOUT_MS,
  ENCRYPTION_MODES,
  type DaemonConfig,
  type DaemonFlags,
  type LatePolicy,
  type RetryPolicy,
  type TargetConfig,
} from './options';

type Obj = Readonly<Record<string, unknown>>;
const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SECRET_KEYS = new Set(['secret', 'password']);

function bad(path: string, expected: string, value: unknown): never {
  const key = path.slice(path.lastIndexOf('.') + 1);
  const shown = SECRET_KEYS.has(key) ? "'***'" : typeof value === 'string' ? `'${redactBackend(value)}'` : JSON.stringify(value);
  throw new InputError('FK_CONFIG_INVALID', `${path} must be ${expected}, got ${shown}`);
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Field readers that name the offending field (`daemon.targets[1].url`) and value. */
function reader(obj: Obj, at: string) {
  const path = (k: string): string => `${at}.${k}`;
  return {
    str(k: string): string | undefined {
      const v = obj[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string' || v === '') bad(path(k), 'a non-empty string', v);
      return v;
    },
    int(k: string, min: number): number | undefined {
      const v = obj[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(path(k), `an integer >= ${min}`, v);
      return v;
    },
    strings(k: string): string[] | undefined {
      const v = obj[k];
      if (v === undefined || v === null) return undefined;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(path(k), 'an array of strings', v);
      return v as string[];
    },
    obj(k: string): Obj | undefined {
      const v = obj[k];
      if (v === undefined || v === null) return undefined;
      if (!isObj(v)) bad(path(k), 'an object', v);
      return v;
    },
    unknownKeys(allowed: readonly string[]): void {
      for (const k of Object.keys(obj)) {
        if (!allowed.includes(k)) throw new InputError('FK_CONFIG_INVALID', `${path(k)} is not a known setting (expected one of ${allowed.join(', ')})`);
      }
    },
  };
}

function parseEvents(list: readonly string[], path: string): string[] {
  for (const f of list) {
    if (f !== '*' && !isEventType(f) && !(f.endsWith('.*') && f.length > 2)) bad(path, "a list of event types, 'prefix.*' or '*'", f);
  }
  return [...list];
}

function parseHttp(v: unknown, path: string): { host: string; port: number } | null {
  if (v === false || v === 'off') return null;
  if (typeof v === 'string') {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(v);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port > 65535) bad(path, "'host:port' or 'off'", v);
    return { host: m[1] ?? (m[2] || DEFAULT_HTTP_HOST), port };
  }
  if (isObj(v)) {
    const r = reader(v, path);
    r.unknownKeys(['host', 'port']);
    const port = r.int('port', 0) ?? DEFAULT_HTTP_PORT;
    if (port > 65535) bad(`${path}.port`, 'a port number (0-65535)', port);
    return { host: r.str('host') ?? DEFAULT_HTTP_HOST, port };
  }
  return bad(path, "'host:port', 'off', false or {host, port}", v);
}

function parseLate(v: string, path: string): LatePolicy {
  if (v !== 'drop' && v !== 'send') bad(path, "'drop' or 'send'", v);
  return v;
}

/** A secret given inline, in a file (`<key>File`) or in an environment variable (`<key>Env`). */
function secretOf(t: Obj, key: string, at: string, env: NodeJS.ProcessEnv): string | null {
  const r = reader(t, at);
  const inline = r.str(key);
  const file = r.str(`${key}File`);
  const envName = r.str(`${key}Env`);
  if ([inline, file, envName].filter((x) => x !== undefined).length > 1) {
    throw new InputError('FK_CONFIG_INVALID', `${at}: give only one of ${key}, ${key}File, ${key}Env`);
  }
  if (file !== undefined) {
    try {
      const s = readFileSync(file, 'utf8').trim();
      if (s === '') bad(`${at}.${key}File`, 'a file holding the secret', file);
      return s;
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError('FK_CONFIG_INVALID', `${at}.${key}File '${file}' cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (envName !== undefined) {
    const s = env[envName];
    if (!s) throw new InputError('FK_CONFIG_INVALID', `${at}.${key}Env names '${envName}', which is not set`);
    return s;
  }
  return inline ?? null;
}

function parseRetry(v: Obj | undefined, at: string): RetryPolicy {
  if (v === undefined) return DEFAULT_RETRY;
  const r = reader(v, at);
  r.unknownKeys(['minMs', 'maxMs', 'maxAttempts']);
  const minMs = r.int('minMs', 1) ?? DEFAULT_RETRY.minMs;
  const maxMs = r.int('maxMs', 1) ?? Math.max(minMs, DEFAULT_RETRY.maxMs);
  if (maxMs < minMs) bad(`${at}.maxMs`, `at least minMs (${minMs})`, maxMs);
  return { minMs, maxMs, maxAttempts: r.int('maxAttempts', 0) ?? DEFAULT_RETRY.maxAttempts };
}

const COMMON = ['type', 'name', 'events', 'retry', 'dedupeKey'];

function parseTarget(t: unknown, at: string, env: NodeJS.ProcessEnv): TargetConfig {
  if (!isObj(t)) bad(at, 'an object', t);
  const r = reader(t, at);
  const type = r.str('type');
  const common = {
    name: r.str('name') ?? type ?? '',
    events: parseEvents(r.strings('events') ?? ['*'], `${at}.events`),
    retry: parseRetry(r.obj('retry'), `${at}.retry`),
  };
  const key = (derived: string | null): string | null => r.str('dedupeKey') ?? derived;
  switch (type) {
    case 'stdout':
      r.unknownKeys(COMMON);
      return { type, ...common, dedupeKey: key(null) };
    case 'hook': {
      r.unknownKeys([...COMMON, 'argv', 'timeoutMs']);
      const argv = r.strings('argv');
      if (argv === undefined || argv.length === 0 || argv[0] === '') bad(`${at}.argv`, 'a non-empty array: program then arguments', t.argv);
      return { type, ...common, argv, timeoutMs: r.int('timeoutMs', 1) ?? DEFAULT_HOOK_TIMEOUT_MS, dedupeKey: key(null) };
    }
    case 'webhook': {
      r.unknownKeys([...COMMON, 'url', 'secret', 'secretFile', 'secretEnv', 'timeoutMs', 'headers']);
      const url = r.str('url');
      if (url === undefined || !/^https?:\/\/[^/\s]+/i.test(url)) bad(`${at}.url`, 'an http:// or https:// URL', t.url);
      const headers = r.obj('headers') ?? {};
      for (const [h, v] of Object.entries(headers)) if (typeof v !== 'string') bad(`${at}.headers.${h}`, 'a string', v);
      return {
        type,
        ...common,
        url,
        secret: secretOf(t, 'secret', at, env),
        timeoutMs: r.int('timeoutMs', 1) ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
        headers: headers as Record<string, string>,
        dedupeKey: key(`webhook:${url}`),
      };
    }
    case 'amqp': {
      r.unknownKeys([...COMMON, 'url', 'password', 'passwordFile', 'passwordEnv', 'exchange', 'timeoutMs']);
      const raw = r.str('url');
      if (raw === undefined || !/^amqps?:\/\//i.test(raw)) bad(`${at}.url`, 'an amqp:// or amqps:// URL', t.url);
      const password = secretOf(t, 'password', at, env);
      const u = new URL(raw);
      if (password !== null) u.password = password;
      const exchange = r.str('exchange') ?? DEFAULT_AMQP_EXCHANGE;
      return { type, ...common, url: u.toString(), exchange, timeoutMs: r.int('timeoutMs', 1) ?? DEFAULT_AMQP_TIMEOUT_MS, dedupeKey: key(`amqp:${u.host}${u.pathname}#${exchange}`) };
    }
    case 'xmpp': {
      r.unknownKeys([...COMMON, 'service', 'domain', 'username', 'password', 'passwordFile', 'passwordEnv', 'to', 'timeoutMs']);
      const service = r.str('service');
      if (service === undefined || !/^xmpps?:\/\/[^/\s]+$/i.test(service)) bad(`${at}.service`, 'xmpp://host:port or xmpps://host:port', t.service);
      const username = r.str('username') ?? bad(`${at}.username`, 'a non-empty string', t.username);
      const to = r.str('to');
      if (to === undefined || !/^[^@\s/]+@[^@\s/]+(\/.+)?$/.test(to)) bad(`${at}.to`, 'a JID like user@example.org', t.to);
      const password = secretOf(t, 'password', at, env) ?? bad(`${at}.password`, 'given (password, passwordFile or passwordEnv)', undefined);
      const domain = r.str('domain') ?? new URL(service).hostname;
      return {
        type,
        ...common,
        service,
        domain,
        username,
        password,
        to,
        timeoutMs: r.int('timeoutMs', 1) ?? DEFAULT_XMPP_TIMEOUT_MS,
        dedupeKey: key(`xmpp:${to}`),
      };
    }
    default:
      return bad(`${at}.type`, "one of 'stdout', 'hook', 'webhook', 'amqp', 'xmpp'", t.type);
  }
}

function parseUsers(list: unknown, base: Config): Config[] {
  if (!Array.isArray(list) || list.length === 0) bad('daemon.users', 'a non-empty array of {user, backend}', list);
  const seen = new Set<string>();
  return list.map((u, i) => {
    const at = `daemon.users[${i}]`;
    if (!isObj(u)) bad(at, 'an object', u);
    const r = reader(u, at);
    r.unknownKeys(['user', 'backend', 'encryption', 'passphraseFile']);
    const user = r.str('user') ?? base.user;
    if (!/^[^\s,:()"]+$/.test(user)) bad(`${at}.user`, 'an identity without spaces, commas, colons, quotes or parentheses', user);
    const backend = r.str('backend') ?? base.backend;
    const encryption = r.str('encryption') ?? base.encryption;
    if (!(ENCRYPTION_MODES as readonly string[]).includes(encryption)) bad(`${at}.encryption`, ENCRYPTION_MODES.join(' | '), encryption);
    const key = `${user}\n${backend}`;
    if (seen.has(key)) throw new InputError('FK_CONFIG_INVALID', `${at}: user '${user}' on '${redactBackend(backend)}' is listed twice`);
    seen.add(key);
    return Object.freeze({ ...base, user, backend, encryption: encryption as Config['encryption'], passphraseFile: r.str('passphraseFile') ?? base.passphraseFile });
  });
}

function stateHome(env: NodeJS.ProcessEnv): string {
  const v = env.XDG_STATE_HOME;
  return join(v && v.startsWith('/') ? v : join(homedir(), '.local/state'), 'flowkeeper-headless', 'daemon');
}

function first<T>(...vs: Array<T | undefined>): T | undefined {
  return vs.find((v) => v !== undefined && v !== '');
}

/**
 * Resolves and validates the daemon configuration once: flags > FK_* environment > the `daemon`
 * section of the config file > defaults. Errors name the field and the offending value (secrets
 * shown as '***') and throw `InputError FK_CONFIG_INVALID`.
 */
export function resolveDaemonConfig(base: Config, flags: DaemonFlags, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const section = base.raw.daemon ?? {};
  if (!isObj(section)) bad('daemon', 'an object', section);
  const r = reader(section, 'daemon');
  r.unknownKeys(['name', 'stateDir', 'http', 'late', 'dedupe', 'shutdownTimeoutMs', 'logLevel', 'users', 'targets']);
  const name = first(flags.name, env.FK_DAEMON_NAME, r.str('name')) ?? DEFAULT_DAEMON_NAME;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) bad('daemon.name', 'letters, digits, _ . -', name);
  const stateDir = first(flags.stateDir, env.FK_DAEMON_STATE_DIR, r.str('stateDir')) ?? join(stateHome(env), name);
  const dedupe = r.obj('dedupe') ?? {};
  const dr = reader(dedupe, 'daemon.dedupe');
  dr.unknownKeys(['dir', 'ttlSeconds']);
  const dedupeDir = first(env.FK_DAEMON_DEDUPE_DIR, dr.str('dir')) ?? join(stateHome(env), 'seen');
  const ttlEnv = env.FK_DAEMON_DEDUPE_TTL;
  if (ttlEnv !== undefined && !/^\d+$/.test(ttlEnv)) bad('FK_DAEMON_DEDUPE_TTL', 'a number of seconds', ttlEnv);
  const ttlSeconds = ttlEnv !== undefined ? Number(ttlEnv) : dr.int('ttlSeconds', 1);
  const late = parseLate(first(flags.late, env.FK_DAEMON_LATE, r.str('late')) ?? 'drop', flags.late !== undefined ? '--late' : 'daemon.late');
  const httpRaw = first<unknown>(flags.http, env.FK_DAEMON_HTTP, section.http);
  const http = httpRaw === undefined ? { host: DEFAULT_HTTP_HOST, port: DEFAULT_HTTP_PORT } : parseHttp(httpRaw, flags.http !== undefined ? '--http' : 'daemon.http');
  const shutdownEnv = env.FK_DAEMON_SHUTDOWN_TIMEOUT_MS;
  if (shutdownEnv !== undefined && !/^\d+$/.test(shutdownEnv)) bad('FK_DAEMON_SHUTDOWN_TIMEOUT_MS', 'a number of milliseconds', shutdownEnv);
  const shutdownTimeoutMs = shutdownEnv !== undefined ? Number(shutdownEnv) : (r.int('shutdownTimeoutMs', 0) ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
  const logLevel = (first(flags.logLevel, env.FK_LOG_LEVEL, r.str('logLevel'), typeof base.raw.logLevel === 'string' ? base.raw.logLevel : undefined) ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) bad('log level', LEVELS.join(' | '), logLevel);

  const sessionFromEnv = env.FK_USER !== undefined || env.FK_BACKEND !== undefined;
  const users = flags.sessionFlags || sessionFromEnv || section.users === undefined ? [base] : parseUsers(section.users, base);

  const fileTargets = section.targets === undefined ? [] : section.targets;
  if (!Array.isArray(fileTargets)) bad('daemon.targets', 'an array of targets', fileTargets);
  const targets = fileTargets.map((t, i) => parseTarget(t, `daemon.targets[${i}]`, env));
  const events = first(flags.events, env.FK_DAEMON_EVENTS);
  const extra: unknown[] = [];
  const stdoutEnv = env.FK_DAEMON_STDOUT;
  if (flags.stdout || stdoutEnv === '1' || stdoutEnv === 'true') extra.push({ type: 'stdout' });
  const webhook = first(flags.webhook, env.FK_DAEMON_WEBHOOK_URL);
  if (webhook !== undefined) extra.push({ type: 'webhook', url: webhook, ...(env.FK_DAEMON_WEBHOOK_SECRET ? { secretEnv: 'FK_DAEMON_WEBHOOK_SECRET' } : {}) });
  for (const [i, t] of extra.entries()) {
    const at = flags.webhook !== undefined || flags.stdout ? 'option' : 'environment';
    const parsed = parseTarget({ ...(t as Obj), ...(events ? { events: events.split(',').map((s) => s.trim()) } : {}) }, `${at}[${i}]`, env);
    const same = targets.findIndex((x) => x.name === parsed.name);
    if (same >= 0) targets[same] = parsed;
    else targets.push(parsed);
  }
  if (targets.length === 0) targets.push(parseTarget({ type: 'stdout' }, 'default', env));
  // Unnamed targets are named after their type (webhook, webhook-2, …); a name given twice is an error.
  const names = new Map<string, number>();
  const named = targets.map((t, i) => {
    const n = (names.get(t.name) ?? 0) + 1;
    names.set(t.name, n);
    if (n === 1) return t;
    if (t.name !== t.type) throw new InputError('FK_CONFIG_INVALID', `daemon.targets[${i}].name '${t.name}' is used twice`);
    return { ...t, name: `${t.name}-${n}` };
  });
  return Object.freeze({
    name,
    stateDir,
    dedupeDir,
    dedupeTtlMs: ttlSeconds === undefined ? DEFAULT_DEDUPE_TTL_MS : ttlSeconds * 1000,
    late,
    http,
    shutdownTimeoutMs,
    logLevel,
    users,
    targets: named,
  });
}

/** The configuration with secrets masked, for logs and `/status`. */
export function describeTargets(targets: readonly TargetConfig[]): Array<Record<string, unknown>> {
  return targets.map((t) => {
    const common = { name: t.name, type: t.type, events: t.events };
    switch (t.type) {
      case 'webhook':
        return { ...common, url: redactBackend(t.url), signed: t.secret !== null };
      case 'amqp':
        return { ...common, url: redactBackend(t.url), exchange: t.exchange };
      case 'xmpp':
        return { ...common, service: t.service, to: t.to };
      case 'hook':
        return { ...common, program: t.argv[0] };
      default:
        return common;
    }
  });
}
