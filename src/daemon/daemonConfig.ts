import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors';
import { redactBackend, type Config, type LogLevel } from '../app/config';
import { bad, isObj, reader, type Obj } from './configReader';
import {
  DEFAULT_DAEMON_NAME,
  DEFAULT_DEDUPE_TTL_MS,
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  ENCRYPTION_MODES,
  type DaemonConfig,
  type DaemonFlags,
  type LatePolicy,
  type TargetConfig,
} from './options';
import { parseTarget } from './targetConfig';

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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

/** Only the HTTP endpoint (what `fk daemon status` needs, without the targets' secrets). */
export function resolveDaemonHttp(base: Config, flags: Pick<DaemonFlags, 'http'>, env: NodeJS.ProcessEnv = process.env): DaemonConfig['http'] {
  const section = isObj(base.raw.daemon) ? base.raw.daemon : {};
  const raw = first<unknown>(flags.http, env.FK_DAEMON_HTTP, section.http);
  return raw === undefined ? { host: DEFAULT_HTTP_HOST, port: DEFAULT_HTTP_PORT } : parseHttp(raw, flags.http !== undefined ? '--http' : 'daemon.http');
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
  const http = resolveDaemonHttp(base, flags, env);
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
