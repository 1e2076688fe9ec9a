import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../core/errors';
import { lockFile } from '../transports/file';

/**
 * The file backend's accounts: one line per account, `<e-mail> <Argon2id hash>`, `#` comments
 * and blank lines allowed, mode 0600. `fk serve user add/remove` edit it under
 * `<file>.lock` with an atomic rename, so a running server (which re-reads it when it changes)
 * never sees half a file.
 */
export type Accounts = ReadonlyMap<string, string>;

const LINE_RE = /^(\S+) (\$argon2id\$\S+)$/;

export function parseAccounts(text: string, path: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE_RE.exec(line);
    if (!m)
      throw new InputError(
        'FK_CONFIG_INVALID',
        `account file '${path}' line ${i + 1}: expected '<e-mail> <argon2id hash>'`,
      );
    if (out.has(m[1] as string))
      throw new InputError('FK_CONFIG_INVALID', `account file '${path}' line ${i + 1}: '${m[1]}' appears twice`);
    out.set(m[1] as string, m[2] as string);
  });
  return out;
}

export function formatAccounts(accounts: Accounts): string {
  const lines = ['# fk serve accounts: <e-mail> <argon2id hash> (edit with fk serve user add/remove)'];
  for (const [email, hash] of accounts) lines.push(`${email} ${hash}`);
  return `${lines.join('\n')}\n`;
}

/** Reads the account file; a missing file is no accounts. */
export function readAccounts(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new InputError('FK_CONFIG_INVALID', `account file '${path}' cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseAccounts(text, path);
}

/** Changes the account file under its lock: `change` edits the map, the file is replaced whole. */
export async function updateAccounts(path: string, change: (accounts: Map<string, string>) => void): Promise<void> {
  const held = await lockFile(`${path}.lock`, { timeoutMs: 10_000, what: `account file '${path}'` });
  try {
    const accounts = readAccounts(path);
    change(accounts);
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      const bytes = Buffer.from(formatAccounts(accounts), 'utf8');
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(tmp);
      throw err;
    }
    closeSync(fd);
    renameSync(tmp, path);
  } finally {
    held.release();
  }
}

/**
 * The accounts as a server sees them: re-read whenever the file's size or modification time
 * changed, so `fk serve user add/remove` take effect without a restart.
 */
export function watchedAccounts(path: string): () => Accounts {
  let stamp = '';
  let cached: Accounts = new Map();
  return () => {
    let now = 'missing';
    try {
      const st = statSync(path);
      now = `${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch {
      /* missing: no accounts */
    }
    if (now !== stamp) {
      cached = now === 'missing' ? new Map() : readAccounts(path);
      stamp = now;
    }
    return cached;
  };
}
