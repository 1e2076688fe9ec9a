import { constants } from 'node:fs';
import { chmod, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes, scrypt } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { deriveFernetKey, deriveSodiumKey, type CipherFormat } from '../core/crypto';
import { InputError } from '../core/errors';

/**
 * Derived E2E keys, cached per user so the slow KDFs (PBKDF2 480k for Fernet, Argon2id 256 MiB
 * for sodium) run once per passphrase and salt, not once per `fk` invocation.
 *
 * One file per (format, passphrase, salt) in a 0700 directory, each file 0600, holding only the
 * derived key: `{"v":1,"format":"fernet","key":"<base64url>"}`. The passphrase is never written.
 * The file name is an scrypt hash (N=2^14, r=8, p=1) of the passphrase, format and salt, so
 * listing the directory does not offer a fast passphrase-guessing oracle. The keys themselves
 * decrypt the histories: the directory is as sensitive as the passphrase.
 */
export interface KeyCacheOptions {
  /**
   * Directory of the cached keys.
   * @default `$XDG_CACHE_HOME/flowkeeper-headless/keys`, or `~/.cache/flowkeeper-headless/keys`
   */
  readonly cacheDir?: string;
  /**
   * Environment used to find the default directory (`XDG_CACHE_HOME`).
   * @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Derive every time and touch no file.
   * @default false
   */
  readonly disabled?: boolean;
}

/** Options of {@link getFernetKey}; `derive` is injectable so tests can count derivations. */
export interface FernetKeyCacheOptions extends KeyCacheOptions {
  /** @default deriveFernetKey */
  readonly derive?: (passphrase: string) => Uint8Array | Promise<Uint8Array>;
}

/** Options of {@link getSodiumKey}; `derive` is injectable so tests can count derivations. */
export interface SodiumKeyCacheOptions extends KeyCacheOptions {
  /** @default deriveSodiumKey */
  readonly derive?: (passphrase: string, salt: Uint8Array) => Uint8Array | Promise<Uint8Array>;
}

const KEY_BYTES = 32;
const NO_SALT = new Uint8Array(0);

/** The Fernet key for `passphrase`, from the cache or derived (and then cached). */
export async function getFernetKey(passphrase: string, opts: FernetKeyCacheOptions = {}): Promise<Uint8Array> {
  const derive = opts.derive ?? deriveFernetKey;
  return cachedKey('fernet', passphrase, NO_SALT, () => derive(passphrase), opts);
}

/** The sodium key for `passphrase` and the history's `salt`, from the cache or derived (and then cached). */
export async function getSodiumKey(passphrase: string, salt: Uint8Array, opts: SodiumKeyCacheOptions = {}): Promise<Uint8Array> {
  const derive = opts.derive ?? deriveSodiumKey;
  return cachedKey('sodium', passphrase, salt, () => derive(passphrase, salt), opts);
}

/** Where keys are cached by default: XDG base directory spec, relative `XDG_CACHE_HOME` ignored. */
export function defaultKeyCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg && isAbsolute(xdg) ? xdg : join(home, '.cache');
  return join(base, 'flowkeeper-headless', 'keys');
}

async function cachedKey(
  format: CipherFormat,
  passphrase: string,
  salt: Uint8Array,
  derive: () => Uint8Array | Promise<Uint8Array>,
  opts: KeyCacheOptions,
): Promise<Uint8Array> {
  if (opts.disabled) return derive();
  const dir = opts.cacheDir ?? defaultKeyCacheDir(opts.env ?? process.env);
  if (!(await ensurePrivateDir(dir))) return derive();
  const file = join(dir, `${format}-${await entryId(format, passphrase, salt)}.json`);
  const hit = await readEntry(file, format);
  if (hit) return hit;
  const key = await derive();
  await writeEntry(dir, file, format, key);
  return key;
}

function entryId(format: CipherFormat, passphrase: string, salt: Uint8Array): Promise<string> {
  const context = Buffer.concat([Buffer.from(`fk-key-cache v1\0${format}\0`, 'utf8'), salt]);
  return new Promise((resolve, reject) => {
    scrypt(passphrase, context, 32, { N: 1 << 14, r: 8, p: 1 }, (err, out) => (err ? reject(err) : resolve(out.toString('hex'))));
  });
}

const POSIX = process.platform !== 'win32';

/**
 * Creates `dir` (0700) if needed. Returns false when it cannot be created (the cache is then
 * skipped, not fatal); throws `InputError FK_CONFIG_INVALID` when it belongs to another user,
 * since keys must neither be read from nor written to a directory someone else controls.
 */
async function ensurePrivateDir(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch {
    return false;
  }
  const st = await stat(dir);
  if (!st.isDirectory()) throw new InputError('FK_CONFIG_INVALID', `key cache '${dir}' is not a directory`);
  if (!POSIX) return true;
  if (st.uid !== process.getuid?.()) {
    throw new InputError('FK_CONFIG_INVALID', `key cache directory '${dir}' belongs to another user (uid ${st.uid})`);
  }
  if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
  return true;
}

/**
 * The cached key, or null on a miss. A file that others could read or write, that is not ours,
 * or that does not hold a well-formed entry is deleted and counts as a miss, so it gets
 * re-created with 0600 instead of being trusted.
 */
async function readEntry(file: string, format: CipherFormat): Promise<Uint8Array | null> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | (POSIX ? constants.O_NOFOLLOW : 0));
  } catch {
    return null;
  }
  let key: Uint8Array | null = null;
  try {
    const st = await handle.stat();
    const isPrivate = !POSIX || (st.uid === process.getuid?.() && (st.mode & 0o077) === 0);
    if (st.isFile() && isPrivate && st.size < 1024) key = parseEntry(await handle.readFile('utf8'), format);
  } finally {
    await handle.close();
  }
  if (key === null) await unlink(file).catch(() => undefined);
  return key;
}

function parseEntry(text: string, format: CipherFormat): Uint8Array | null {
  try {
    const entry = JSON.parse(text) as { v?: unknown; format?: unknown; key?: unknown };
    if (entry.v !== 1 || entry.format !== format || typeof entry.key !== 'string') return null;
    const key = Buffer.from(entry.key, 'base64url');
    return key.length === KEY_BYTES && key.toString('base64url') === entry.key ? new Uint8Array(key) : null;
  } catch {
    return null;
  }
}

/** Writes via a 0600 temp file and rename, so a reader never sees half an entry. Failures only cost the cache. */
async function writeEntry(dir: string, file: string, format: CipherFormat, key: Uint8Array): Promise<void> {
  const tmp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
  const body = JSON.stringify({ v: 1, format, key: Buffer.from(key).toString('base64url') });
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch {
    await unlink(tmp).catch(() => undefined);
  }
}
