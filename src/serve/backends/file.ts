import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyName } from '../../app/historyName';
import { SERVED_HEADER } from '../../core/engine/seed';
import { InputError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { createFileTransport } from '../../transports/file';
import { watchedAccounts } from '../accountFile';
import type { AccountAccess, ServeBackend } from '../backend';
import { createPasswordHasher, DUMMY_HASH, type PasswordHasher } from '../passwordHasher';

/** A new history file starts with the `# fk-serve` header: its readers apply the protocol's rule. */
function createServedFile(path: string): void {
  try {
    writeFileSync(path, `${SERVED_HEADER}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Where the file backend keeps things, under its directory. */
export function fileLayout(dir: string): { accounts: string; histories: string; history: (email: string) => string } {
  const histories = join(dir, 'histories');
  return {
    accounts: join(dir, 'accounts'),
    histories,
    history: (email) => join(histories, `${historyName(email)}.txt`),
  };
}

/**
 * `--backend <dir>`: accounts in `<dir>/accounts` (Argon2id hashes, `fk serve user add`), one
 * history file per account in `<dir>/histories/<name>.txt` (the name as `app/historyName.ts`
 * makes it), in Flowkeeper's own file format: `fk --backend <that file> --user <e-mail>` reads it.
 * Its first line is the `# fk-serve` header (a comment), so `fk` applies the protocol's
 * sequencing rule to it (the first record of a seq wins) instead of the desktop file's.
 */
export function createFileBackend(
  dir: string,
  logger: Logger,
  hasher: PasswordHasher = createPasswordHasher(),
): ServeBackend {
  const layout = fileLayout(dir);
  try {
    mkdirSync(layout.histories, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new InputError('FK_CONFIG_INVALID', `backend directory '${dir}' cannot be used: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const accounts = watchedAccounts(layout.accounts);
  accounts(); // a malformed account file fails at start, not at the first sign-in
  return {
    kind: 'file',
    where: dir,
    async authenticate(email, password) {
      const hash = accounts().get(email);
      // An unknown account costs one verification too: no timing difference to probe.
      const ok = await hasher.verify(hash ?? DUMMY_HASH, password);
      if (!ok || hash === undefined) return null;
      const path = layout.history(email);
      const access: AccountAccess = {
        email,
        openHistory: () => {
          createServedFile(path);
          return createFileTransport({ path, create: 'file', logger });
        },
        deleteHistory: async () => {
          try {
            unlinkSync(path);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
        },
      };
      return access;
    },
    close: () => hasher.close(),
  };
}
