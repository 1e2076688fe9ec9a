import { existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { InputError } from '../core/errors';
import { resolvePassphrase } from '../app/passphrase';
import { readAccounts, updateAccounts } from './accountFile';
import { fileLayout } from './backends/file';
import type { PasswordHasher } from './passwordHasher';
import { EMAIL_RE } from './signIn';

/**
 * `fk serve user add|remove|list`: the file backend's accounts (`<dir>/accounts`). Passwords come
 * from FK_SERVE_PASSWORD, `--password-file` or a prompt (asked twice), never from argv.
 */
export const MIN_PASSWORD_LENGTH = 8;

function assertFileBackend(dir: string): void {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dir)) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `fk serve user manages the file backend's accounts; '${dir.split('://')[0]}://' accounts are the broker's own`,
    );
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `backend directory '${dir}' does not exist (create it, or start fk serve once)`,
    );
  }
}

function assertEmail(email: string): void {
  if (email.length > 254 || !EMAIL_RE.test(email)) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `'${email.slice(0, 80)}' is not an e-mail address Flowkeeper's client can sign in with (name@domain.tld)`,
    );
  }
}

/** The new password: `--password-file`, else FK_SERVE_PASSWORD, else a prompt on a terminal (twice). */
export async function newPassword(
  email: string,
  passwordFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  let password: string | null = null;
  if (passwordFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(passwordFile, 'utf8');
    } catch (err) {
      throw new InputError('FK_INPUT_INVALID', `password file '${passwordFile}' (--password-file) cannot be read`, {
        cause: err,
      });
    }
    password = text.split(/\r?\n/, 1)[0] ?? '';
  } else if (env.FK_SERVE_PASSWORD) {
    password = env.FK_SERVE_PASSWORD;
  } else {
    password = await resolvePassphrase({ env: {}, prompt: `New password for ${email}: ` });
    if (password !== null) {
      const again = await resolvePassphrase({ env: {}, prompt: 'Again: ' });
      if (again !== password) throw new InputError('FK_INPUT_INVALID', 'the two passwords differ');
    }
  }
  if (password === null) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `a password is needed for ${email}: set FK_SERVE_PASSWORD, pass --password-file, or run on a terminal`,
    );
  }
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `the password for ${email} is too short: at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  }
  return password;
}

/** Adds an account, or sets a new password for an existing one (`replaced`). */
export async function addUser(
  dir: string,
  email: string,
  password: string,
  hasher: PasswordHasher,
): Promise<{ replaced: boolean }> {
  assertFileBackend(dir);
  assertEmail(email);
  const hash = await hasher.hash(password);
  let replaced = false;
  await updateAccounts(fileLayout(dir).accounts, (accounts) => {
    replaced = accounts.has(email);
    accounts.set(email, hash);
  });
  return { replaced };
}

/** Removes an account; its history stays unless `deleteHistory`. */
export async function removeUser(
  dir: string,
  email: string,
  opts: { deleteHistory: boolean },
): Promise<{ historyDeleted: boolean }> {
  assertFileBackend(dir);
  const layout = fileLayout(dir);
  let found = false;
  await updateAccounts(layout.accounts, (accounts) => {
    found = accounts.delete(email);
  });
  if (!found) throw new InputError('FK_INPUT_INVALID', `no account '${email.slice(0, 254)}' in '${layout.accounts}'`);
  if (!opts.deleteHistory || !existsSync(layout.history(email))) return { historyDeleted: false };
  unlinkSync(layout.history(email));
  return { historyDeleted: true };
}

export function listUsers(dir: string): Array<{ email: string; history: string | null }> {
  assertFileBackend(dir);
  const layout = fileLayout(dir);
  return [...readAccounts(layout.accounts).keys()].map((email) => ({
    email,
    history: existsSync(layout.history(email)) ? layout.history(email) : null,
  }));
}
