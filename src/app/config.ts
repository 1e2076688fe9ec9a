import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors';
import { isHistoryIdentity } from '../core/engine/serializer';

/**
 * Configuration of the CLI and daemon: flags > environment (`FK_*`) > config file > defaults,
 * validated once (STYLE §7). Secrets never come from flags: the passphrase comes from
 * FK_PASSPHRASE, a passphrase file or a prompt; broker passwords from the URL in FK_BACKEND or
 * the config file, or FK_AMQP_PASSWORD / FK_XMPP_PASSWORD.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type EncryptionMode = 'auto' | 'off' | 'fernet' | 'sodium';

export interface Config {
  /** A file path (the embedded default) or `amqp://…` / `xmpp://…`. */
  readonly backend: string;
  /** The identity recorded in new strategies. */
  readonly user: string;
  readonly logLevel: LogLevel;
  readonly encryption: EncryptionMode;
  readonly passphraseFile: string | undefined;
  /** Where derived keys and broker replicas are cached. */
  readonly cacheDir: string;
  /** Where the config file was read from, if any. */
  readonly configFile: string | undefined;
  /** The raw config-file object, for sections other modules own (e.g. `daemon`). */
  readonly raw: Readonly<Record<string, unknown>>;
  /** `--create`: a file backend may be created with missing directories (see `historyCreation`). @default false */
  readonly create?: boolean;
  /**
   * `--read-only` / `FK_READ_ONLY` / `readOnly`: never write to the backend, so that read
   * permission is enough (status, state, export, the daemon; see docs/amqp.md). @default false
   */
  readonly readOnly?: boolean;
}

export interface ConfigFlags {
  readonly backend?: string | undefined;
  readonly file?: string | undefined;
  readonly user?: string | undefined;
  readonly logLevel?: string | undefined;
  readonly encryption?: string | undefined;
  readonly passphraseFile?: string | undefined;
  readonly config?: string | undefined;
  readonly create?: boolean | undefined;
  readonly readOnly?: boolean | undefined;
}

/**
 * The keys a config file may hold; anything else is an error naming it (a mistyped key must not be
 * silently ignored). A module that owns a new section adds its key here.
 */
export const CONFIG_KEYS: readonly string[] = [
  'backend',
  'user',
  'logLevel',
  'encryption',
  'passphraseFile',
  'daemon',
  'amqp',
  'xmpp',
  'readOnly',
];

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MODES: readonly EncryptionMode[] = ['auto', 'off', 'fernet', 'sodium'];

export const DEFAULT_USER = 'user@local.host';

function xdg(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const v = env[name];
  return v && v.startsWith('/') ? v : join(homeDir(), fallback);
}

/**
 * `os.homedir()`, which is `$HOME` whenever that is set (libuv, on POSIX): node:os is loaded only
 * when it is not (start-up cost).
 */
function homeDir(): string {
  const home = process.platform === 'win32' ? undefined : process.env.HOME;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return home !== undefined ? home : (require('node:os') as typeof import('node:os')).homedir();
}

/** Flowkeeper desktop's data file in the XDG data dir: the embedded default backend. */
export function defaultDataFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(xdg(env, 'XDG_DATA_HOME', '.local/share'), 'flowkeeper', 'flowkeeper-data.txt');
}

export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(xdg(env, 'XDG_CONFIG_HOME', '.config'), 'flowkeeper-headless', 'config.json');
}

function readConfigFile(path: string, explicit: boolean): Record<string, unknown> {
  if (!existsSync(path)) {
    if (explicit) throw new InputError('FK_CONFIG_INVALID', `config file '${path}' does not exist`);
    return {};
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError('FK_CONFIG_INVALID', `config file '${path}' is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError('FK_CONFIG_INVALID', `config file '${path}' must hold a JSON object`);
  }
  const unknown = Object.keys(data).find((k) => !CONFIG_KEYS.includes(k));
  if (unknown !== undefined) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `config file '${path}': unknown key '${unknown}' (known: ${CONFIG_KEYS.join(', ')})`,
    );
  }
  return data as Record<string, unknown>;
}

function pickString(name: string, sources: ReadonlyArray<readonly [string, unknown]>): string | undefined {
  for (const [where, v] of sources) {
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string')
      throw new InputError('FK_CONFIG_INVALID', `${where} '${name}' must be a string, got ${JSON.stringify(v)}`);
    return v;
  }
  return undefined;
}

/** Resolves the configuration once; the result is frozen. */
export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const explicit = flags.config ?? env.FK_CONFIG;
  const configFile = explicit ?? defaultConfigFile(env);
  const file = readConfigFile(configFile, explicit !== undefined);
  if (flags.backend !== undefined && flags.file !== undefined) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `give either --backend or --file, not both ('${flags.backend}', '${flags.file}')`,
    );
  }
  const backend =
    pickString('backend', [
      ['option', flags.backend ?? flags.file],
      ['environment variable', env.FK_BACKEND],
      [`config file ${configFile}:`, file.backend],
    ]) ?? defaultDataFile(env);
  const user =
    pickString('user', [
      ['option', flags.user],
      ['environment variable', env.FK_USER],
      [`config file ${configFile}:`, file.user],
    ]) ?? DEFAULT_USER;
  if (!isHistoryIdentity(user)) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `user must be an identity Flowkeeper reads (name@domain.tld), got '${user}'`,
    );
  }
  const logLevel = (pickString('log-level', [
    ['option', flags.logLevel],
    ['environment variable', env.FK_LOG_LEVEL],
    [`config file ${configFile}:`, file.logLevel],
  ]) ?? 'warn') as LogLevel;
  if (!LEVELS.includes(logLevel)) {
    throw new InputError('FK_CONFIG_INVALID', `log level must be one of ${LEVELS.join(', ')}, got '${logLevel}'`);
  }
  const encryption = (pickString('encryption', [
    ['option', flags.encryption],
    ['environment variable', env.FK_ENCRYPTION],
    [`config file ${configFile}:`, file.encryption],
  ]) ?? 'auto') as EncryptionMode;
  if (!MODES.includes(encryption)) {
    throw new InputError('FK_CONFIG_INVALID', `encryption must be one of ${MODES.join(', ')}, got '${encryption}'`);
  }
  const passphraseFile = pickString('passphrase-file', [
    ['option', flags.passphraseFile],
    [`config file ${configFile}:`, file.passphraseFile],
  ]);
  const cacheDir = join(xdg(env, 'XDG_CACHE_HOME', '.cache'), 'flowkeeper-headless');
  const readOnly = flags.readOnly === true || readOnlyFrom(env.FK_READ_ONLY, file.readOnly, configFile);
  return Object.freeze({
    backend,
    user,
    logLevel,
    encryption,
    passphraseFile,
    cacheDir,
    configFile: existsSync(configFile) ? configFile : undefined,
    raw: Object.freeze({ ...file }),
    create: flags.create === true,
    readOnly,
  });
}

function readOnlyFrom(env: string | undefined, file: unknown, configFile: string): boolean {
  if (env !== undefined && env !== '') {
    if (/^(1|true|yes|on)$/i.test(env)) return true;
    if (/^(0|false|no|off)$/i.test(env)) return false;
    throw new InputError('FK_CONFIG_INVALID', `environment variable FK_READ_ONLY must be true or false, got '${env}'`);
  }
  if (file === undefined) return false;
  if (typeof file !== 'boolean')
    throw new InputError(
      'FK_CONFIG_INVALID',
      `config file ${configFile}: 'readOnly' must be true or false, got ${JSON.stringify(file)}`,
    );
  return file;
}

/**
 * How a file backend is created when missing: with its directories for the default data file (as
 * Flowkeeper desktop does on first start) or with `--create`; otherwise only the file, in an
 * existing directory, since a missing directory most likely means a mistyped path.
 */
export function historyCreation(config: Config, env: NodeJS.ProcessEnv = process.env): 'file' | 'directories' {
  return config.create === true || config.backend === defaultDataFile(env) ? 'directories' : 'file';
}

/** Strips credentials from a backend URL for logs and messages. */
export function redactBackend(backend: string): string {
  return backend.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i,
    (_m, scheme: string, cred: string) => `${scheme}${cred.includes(':') ? `${cred.split(':')[0]}:***` : cred}@`,
  );
}
