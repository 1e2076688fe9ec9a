import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultKeyCacheDir, getFernetKey, getSodiumKey } from '../../../src/app/keyCache';
import { deriveFernetKey } from '../../../src/core/crypto';

const PASSPHRASE = 'correct horse battery staple';
const SALT = Uint8Array.from({ length: 16 }, (_, i) => i);

let root: string;
let cacheDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'fk-keycache-'));
  cacheDir = join(root, 'keys');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A derive function that counts its calls and returns a key made from its inputs. */
function countingDerive(): {
  calls: number;
  fernet: (p: string) => Uint8Array;
  sodium: (p: string, s: Uint8Array) => Uint8Array;
} {
  const counter = {
    calls: 0,
    fernet: (p: string) => {
      counter.calls += 1;
      return fakeKey(p, new Uint8Array(0));
    },
    sodium: (p: string, s: Uint8Array) => {
      counter.calls += 1;
      return fakeKey(p, s);
    },
  };
  return counter;
}

function fakeKey(p: string, s: Uint8Array): Uint8Array {
  const key = new Uint8Array(32);
  Buffer.from(`${p.length}:${Buffer.from(s).toString('hex')}`).copy(Buffer.from(key.buffer));
  return key;
}

const mode = (path: string): number => statSync(path).mode & 0o777;
const files = (): string[] => readdirSync(cacheDir).map((f) => join(cacheDir, f));

describe('key cache', () => {
  it('stores one 0600 file in a 0700 directory', async () => {
    const d = countingDerive();
    await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet });
    expect(mode(cacheDir)).toBe(0o700);
    expect(files()).toHaveLength(1);
    expect(mode(files()[0]!)).toBe(0o600);
  });

  it('never stores the passphrase, in file contents or names', async () => {
    await getFernetKey(PASSPHRASE, { cacheDir });
    await getSodiumKey(PASSPHRASE, SALT, { cacheDir, derive: countingDerive().sodium });
    const needles = [
      Buffer.from(PASSPHRASE, 'utf8'),
      Buffer.from(PASSPHRASE, 'utf16le'),
      Buffer.from(Buffer.from(PASSPHRASE).toString('base64')),
    ];
    expect(files()).toHaveLength(2);
    for (const file of files()) {
      const bytes = readFileSync(file);
      for (const needle of needles) expect(bytes.includes(needle)).toBe(false);
      expect(file).not.toContain('horse');
    }
  });

  it('returns the cached key without deriving again', async () => {
    const d = countingDerive();
    const first = await getSodiumKey(PASSPHRASE, SALT, { cacheDir, derive: d.sodium });
    const second = await getSodiumKey(PASSPHRASE, SALT, { cacheDir, derive: d.sodium });
    expect(d.calls).toBe(1);
    expect(Buffer.from(second).equals(first)).toBe(true);
  });

  it('caches the real Fernet key', async () => {
    const key = await getFernetKey(PASSPHRASE, { cacheDir });
    expect(Buffer.from(key).equals(deriveFernetKey(PASSPHRASE))).toBe(true);
    const d = countingDerive();
    expect(Buffer.from(await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet })).equals(key)).toBe(true);
    expect(d.calls).toBe(0);
  });

  it('keeps separate entries per passphrase, salt and format', async () => {
    const d = countingDerive();
    await getSodiumKey(PASSPHRASE, SALT, { cacheDir, derive: d.sodium });
    await getSodiumKey('another passphrase', SALT, { cacheDir, derive: d.sodium });
    await getSodiumKey(PASSPHRASE, new Uint8Array(16).fill(1), { cacheDir, derive: d.sodium });
    await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet });
    expect(d.calls).toBe(4);
    expect(files()).toHaveLength(4);
  });

  it('does not trust a cache file others can read: it is re-derived and re-created as 0600', async () => {
    const d = countingDerive();
    await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet });
    const [file] = files();
    chmodSync(file!, 0o644);
    await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet });
    expect(d.calls).toBe(2);
    expect(mode(file!)).toBe(0o600);
  });

  it('re-derives over a corrupt entry', async () => {
    const d = countingDerive();
    await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet });
    writeFileSync(files()[0]!, '{"v":2,"format":"fernet","key":"short","check":"x"}', { mode: 0o600 });
    const key = await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet });
    expect(d.calls).toBe(2);
    expect(key).toHaveLength(32);
  });

  it('does not trust a well-formed entry holding a wrong key: it is re-derived and replaced', async () => {
    const d = countingDerive();
    const right = await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet });
    const file = files()[0]!;
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const wrong = Buffer.alloc(32, 7).toString('base64url');
    writeFileSync(file, JSON.stringify({ ...entry, key: wrong }), { mode: 0o600 });
    const key = await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet });
    expect(Buffer.from(key).equals(right)).toBe(true);
    expect(d.calls).toBe(2);
    // the replaced entry is trusted again
    await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet });
    expect(d.calls).toBe(2);
  });

  it('does not trust an entry copied from another passphrase or salt', async () => {
    const d = countingDerive();
    await getSodiumKey('another passphrase', SALT, { cacheDir, derive: d.sodium });
    const [other] = files();
    const right = await getSodiumKey(PASSPHRASE, SALT, { cacheDir, derive: d.sodium });
    const mine = files().find((f) => f !== other)!;
    writeFileSync(mine, readFileSync(other!), { mode: 0o600 });
    const key = await getSodiumKey(PASSPHRASE, SALT, { cacheDir, derive: d.sodium });
    expect(Buffer.from(key).equals(right)).toBe(true);
    expect(d.calls).toBe(3);
  });

  it('tightens a cache directory that others can read', async () => {
    await getFernetKey(PASSPHRASE, { cacheDir, derive: countingDerive().fernet });
    chmodSync(cacheDir, 0o755);
    await getFernetKey(PASSPHRASE, { cacheDir, derive: countingDerive().fernet });
    expect(mode(cacheDir)).toBe(0o700);
  });

  it('writes nothing when disabled', async () => {
    const d = countingDerive();
    await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet, disabled: true });
    await getFernetKey(PASSPHRASE, { cacheDir, derive: d.fernet, disabled: true });
    expect(d.calls).toBe(2);
    expect(() => readdirSync(cacheDir)).toThrow();
  });

  it('defaults to $XDG_CACHE_HOME, else ~/.cache, ignoring a relative XDG_CACHE_HOME', () => {
    expect(defaultKeyCacheDir({ XDG_CACHE_HOME: '/x/cache' }, '/home/u')).toBe('/x/cache/flowkeeper-headless/keys');
    expect(defaultKeyCacheDir({}, '/home/u')).toBe('/home/u/.cache/flowkeeper-headless/keys');
    expect(defaultKeyCacheDir({ XDG_CACHE_HOME: 'rel' }, '/home/u')).toBe('/home/u/.cache/flowkeeper-headless/keys');
  });
});
