import { readFileSync } from 'node:fs';
import { isEventType } from '../core/notify/notifications';
import { InputError } from '../core/errors';
import { bad, isObj, reader, type Obj } from './configReader';
import {
  DEFAULT_AMQP_EXCHANGE,
  DEFAULT_AMQP_TIMEOUT_MS,
  DEFAULT_HOOK_TIMEOUT_MS,
  DEFAULT_RETRY,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  DEFAULT_XMPP_TIMEOUT_MS,
  type RetryPolicy,
  type TargetConfig,
} from './options';

export function parseEvents(list: readonly string[], path: string): string[] {
  for (const f of list) {
    if (f !== '*' && !isEventType(f) && !(f.endsWith('.*') && f.length > 2)) bad(path, "a list of event types, 'prefix.*' or '*'", f);
  }
  return [...list];
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

export function parseTarget(t: unknown, at: string, env: NodeJS.ProcessEnv): TargetConfig {
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

