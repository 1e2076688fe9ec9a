import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/logger';
import { parseAccounts, updateAccounts, watchedAccounts } from '../../../src/serve/accountFile';
import { createFileBackend, fileLayout } from '../../../src/serve/backends/file';
import { createPasswordHasher, DUMMY_HASH, type PasswordHasher } from '../../../src/serve/passwordHasher';
import { addUser, listUsers, newPassword, removeUser } from '../../../src/serve/userAdmin';

let dir: string;
let argon2: PasswordHasher;
beforeAll(() => {
  argon2 = createPasswordHasher();
});
afterAll(() => argon2.close());

/**
 * A stand-in for the tests about the account file, not about hashing (the first test is): an
 * Argon2id hash costs 64 MiB and a fraction of a second, and sign-in verifies a dummy hash for an
 * unknown account too. Its hashes have the account file's `$argon2id$` form.
 */
const fakeHash = (password: string): string => `$argon2id$test$${Buffer.from(password).toString('base64url')}`;
const hasher: PasswordHasher = {
  hash: async (password) => fakeHash(password),
  verify: async (hash, password) => hash === fakeHash(password),
  close: async () => undefined,
};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fk-accounts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the file backend accounts', () => {
  it('hashes with Argon2id on a worker thread and verifies', async () => {
    const hash = await argon2.hash('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);
    expect(await argon2.verify(hash, 'correct horse')).toBe(true);
    expect(await argon2.verify(hash, 'wrong horse')).toBe(false);
    expect(await argon2.verify('plain-text', 'plain-text')).toBe(false);
    expect(await argon2.verify(DUMMY_HASH, '')).toBe(false);
  }, 60_000);

  it('user add / remove / list edit the account file (0600) and the server sees changes without a restart', async () => {
    const backend = createFileBackend(dir, silentLogger, hasher);
    expect(await backend.authenticate('carol@example.org', 'carol-password')).toBeNull();
    expect(await addUser(dir, 'carol@example.org', 'carol-password', hasher)).toEqual({ replaced: false });
    const path = fileLayout(dir).accounts;
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const access = await backend.authenticate('carol@example.org', 'carol-password');
    expect(access?.email).toBe('carol@example.org');
    expect(await backend.authenticate('carol@example.org', 'Carol-password')).toBeNull();
    expect(await addUser(dir, 'carol@example.org', 'new-password', hasher)).toEqual({ replaced: true });
    expect(await backend.authenticate('carol@example.org', 'carol-password')).toBeNull();
    expect(listUsers(dir)).toEqual([{ email: 'carol@example.org', history: null }]);
    writeFileSync(fileLayout(dir).history('carol@example.org'), '');
    expect(await removeUser(dir, 'carol@example.org', { deleteHistory: true })).toEqual({ historyDeleted: true });
    expect(await backend.authenticate('carol@example.org', 'new-password')).toBeNull();
    await expect(removeUser(dir, 'carol@example.org', { deleteHistory: false })).rejects.toThrow(
      "no account 'carol@example.org'",
    );
    expect(readFileSync(path, 'utf8')).toMatch(/^# fk serve accounts/);
  }, 60_000);

  it('refuses a malformed account file at start, naming the line; bad e-mails and short passwords', async () => {
    expect(() => parseAccounts('# c\na@b.org $argon2id$x\nbroken line here\n', 'accts')).toThrow(
      "account file 'accts' line 3: expected '<e-mail> <argon2id hash>'",
    );
    expect(() => parseAccounts('a@b.org $argon2id$x\na@b.org $argon2id$y\n', 'accts')).toThrow(
      "'a@b.org' appears twice",
    );
    writeFileSync(fileLayout(dir).accounts, 'nonsense\n');
    expect(() => createFileBackend(dir, silentLogger, hasher)).toThrow(/line 1/);
    await expect(addUser(dir, 'alice@localhost', 'long-enough', hasher)).rejects.toThrow(
      /not an e-mail address Flowkeeper's client can sign in with/,
    );
    await expect(newPassword('a@b.org', undefined, { FK_SERVE_PASSWORD: 'short' })).rejects.toThrow(
      'too short: at least 8 characters',
    );
    await expect(newPassword('a@b.org', join(dir, 'missing'))).rejects.toThrow(
      "password file '" + join(dir, 'missing') + "' (--password-file) cannot be read",
    );
    expect(await newPassword('a@b.org', undefined, { FK_SERVE_PASSWORD: 'long enough' })).toBe('long enough');
    await expect(addUser('amqp://h/', 'a@b.org', 'long-enough', hasher)).rejects.toThrow(
      /accounts are the broker's own/,
    );
  });

  it('a concurrent update loses no account (the lock and the atomic rename)', async () => {
    const path = join(dir, 'accounts');
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => updateAccounts(path, (a) => void a.set(`u${i}@x.org`, `$argon2id$${i}`))),
    );
    expect([...watchedAccounts(path)().keys()].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `u${i}@x.org`));
  });
});
