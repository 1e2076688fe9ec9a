import { closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { InputError, TransportError } from '../../core/errors';

/**
 * What opening a history file does when it is missing:
 * - `'file'`: creates it (mode 0600) when its directory exists, as Flowkeeper desktop creates its
 *   own data file; a missing directory is refused (most likely a mistyped path);
 * - `'directories'`: creates missing directories too (0700), for a default path or `--create`;
 * - `false`: refuses.
 */
export type CreateHistory = 'file' | 'directories' | false;

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TransportError(
      'FK_TRANSPORT_UNAVAILABLE',
      `cannot read history file '${path}': ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Makes sure `path` is a regular file (a symbolic link to one is fine), creating it as `create`
 * allows. A directory, FIFO or device is refused with `InputError FK_CONFIG_INVALID`: reading a
 * FIFO blocks and appending to `/dev/null` would acknowledge records that are gone. `hint` ends
 * the message about a missing directory (the CLI names its `--create`).
 */
export function ensureHistoryFile(path: string, create: CreateHistory, hint?: string): void {
  const st = statOrNull(path);
  if (st !== null) {
    if (!st.isFile())
      throw new InputError(
        'FK_CONFIG_INVALID',
        `history file '${path}' is ${kindOf(st)}: give the path of a history file`,
      );
    return;
  }
  if (create === false) throw new InputError('FK_CONFIG_INVALID', `history file '${path}' does not exist`);
  const dir = dirname(path);
  const d = statOrNull(dir);
  if (d !== null && !d.isDirectory())
    throw new InputError('FK_CONFIG_INVALID', `history file '${path}': '${dir}' is not a directory`);
  if (d === null && create !== 'directories') {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `history file '${path}': directory '${dir}' does not exist${hint ? ` (${hint})` : ''}`,
    );
  }
  try {
    if (d === null) mkdirSync(dir, { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
  } catch (err) {
    throw new TransportError(
      'FK_TRANSPORT_UNAVAILABLE',
      `cannot create history file '${path}': ${(err as Error).message}`,
      { cause: err },
    );
  }
}
