import { constants } from 'node:fs';
import { chmod, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { CipherFormat } from '../core/crypto';
import { deriveFernetKeyOffThread, deriveSodiumKeyOffThread } from './keyDerivation';
import { InputError } from '../core/errors';

/**
 * Derived E2E keys, cached per user so the slow KDFs (PBKDF2 480k for Fernet, Argon2id 256 MiB
 * for sodium) run once per passphrase and salt, not once per `fk` invocation.
 *
 * One file per (format, passphrase, salt) in a 0700 directory, each file 0600, holding the derived
 * key and a check value: `{"v":2,"format":"fernet","key":"<base64url>","check":"<base64url>"}`.
 * The passphrase is never written. An scrypt hash (N=2^14, r=8, p=1) of the passphrase, format and
 * salt gives 64 bytes: the first 32 name the file, so listing the directory does not offer a fast
 * passphrase-guessing oracle; the other 32 (never written) key an HMAC-SHA256 over the format and
 * the key, the check. An entry whose check does not match (a wrong key that is otherwise well
 * formed, one copied from another passphrase, an entry of version 1 without a check) is deleted
 * and the key derived again, so a bad cache costs one derivation and is never trusted. The keys
 * themselves decrypt the histories: the directory is as sensitive as the passphrase.
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
  /** @default deriveFernetKeyOffThread (PBKDF2 off the event loop, see keyDerivation.ts) */
  readonly derive?: (passphrase: string) => Uint8Array | Promise<Uint8Array>;
}

/** Options of {@link getSodiumKey}; `derive` is injectable so tests can count derivations. */
export interface SodiumKeyCacheOptions extends KeyCacheOptions {
  /** @default deriveSodiumKeyOffThread (Argon2id in a worker thread, see keyDerivation.ts) */
  readonly derive?: (passphrase: string, salt: Uint8Array) => Uint8Array | Promise<Uint8Array>;
}

const KEY_BYTES = 32;
const NO_SALT = new Uint8Array(0);

/** The Fernet key for `passphrase`, from the cache or derived (and then cached). */
export async function getFernetKey(passphrase: string, opts: FernetKeyCacheOptions = {}): Promise<Uint8Array> {
  const derive = opts.derive ?? ((p: string) => deriveFernetKeyOffThread(p));
  return cachedKey('fernet', passphrase, NO_SALT, () => derive(passphrase), opts);
}

/** The sodium key for `passphrase` and the history's `salt`, from the cache or derived (and then cached). */
export async function getSodiumKey(
  passphrase: string,
  salt: Uint8Array,
  opts: SodiumKeyCacheOptions = {},
): Promise<Uint8Array> {
  const derive = opts.derive ?? ((p: string, salt: Uint8Array) => deriveSodiumKeyOffThread(p, salt));
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
  const { id, checkKey } = await entryId(format, passphrase, salt);
  const file = join(dir, `${format}-${id}.json`);
  const hit = await readEntry(file, format, checkKey);
  if (hit) return hit;
  const key = await derive();
  await writeEntry(dir, file, format, key, checkKey);
  return key;
}

/**
 * The entry's file name and the key of its check value, from one scrypt run. PBKDF2's output
 * blocks do not depend on the length asked for, so the name is the same 32 bytes as version 1's.
 */
function entryId(
  format: CipherFormat,
  passphrase: string,
  salt: Uint8Array,
): Promise<{ id: string; checkKey: Buffer }> {
  const context = Buffer.concat([Buffer.from(`fk-key-cache v1\0${format}\0`, 'utf8'), salt]);
  return new Promise((resolve, reject) => {
    scrypt(passphrase, context, 64, { N: 1 << 14, r: 8, p: 1 }, (err, out) =>
      err ? reject(err) : resolve({ id: out.subarray(0, 32).toString('hex'), checkKey: out.subarray(32) }),
    );
  });
}

function checkValue(checkKey: Buffer, format: CipherFormat, key: Uint8Array): Buffer {
  return createHmac('sha256', checkKey).update(`fk-key-cache check v2\0${format}\0`).update(key).digest();
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
async function readEntry(file: string, format: CipherFormat, checkKey: Buffer): Promise<Uint8Array | null> {
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
    if (st.isFile() && isPrivate && st.size < 1024) key = parseEntry(await handle.readFile('utf8'), format, checkKey);
  } finally {
    await handle.close();
  }
  if (key === null) await unlink(file).catch(() => undefined);
  return key;
}

function parseEntry(text: string, format: CipherFormat, checkKey: Buffer): Uint8Array | null {
  try {
    const entry = JSON.parse(text) as { v?: unknown; format?: unknown; key?: unknown; check?: unknown };
    if (entry.v !== 2 || entry.format !== format || typeof entry.key !== 'string' || typeof entry.check !== 'string')
      return null;
    const key = Buffer.from(entry.key, 'base64url');
    if (key.length !== KEY_BYTES || key.toString('base64url') !== entry.key) return null;
    const check = Buffer.from(entry.check, 'base64url');
    const expected = checkValue(checkKey, format, key);
    return check.length === expected.length && timingSafeEqual(check, expected) ? new Uint8Array(key) : null;
  } catch {
    return null;
  }
}

/** Writes via a 0600 temp file and rename, so a reader never sees half an entry. Failures only cost the cache. */
async function writeEntry(
  dir: string,
  file: string,
  format: CipherFormat,
  key: Uint8Array,
  checkKey: Buffer,
): Promise<void> {
  const tmp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
  const check = checkValue(checkKey, format, key).toString('base64url');
  const body = JSON.stringify({ v: 2, format, key: Buffer.from(key).toString('base64url'), check });
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
