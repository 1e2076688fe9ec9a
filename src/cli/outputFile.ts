import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { copyFile, link, lstat, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../core/errors';

/**
 * Where a tool writes: a new path, or (with `force`) an existing regular file; never an input.
 *
 * Anything else that already exists is refused, `--force` or not: a directory, a FIFO, a socket,
 * a device (run as root, replacing `/dev/null` by a rename broke the system) and a symbolic link.
 * A symbolic link is refused rather than followed or replaced: replacing it would silently turn
 * the link into a file and leave its target as it was, and following it would write wherever it
 * points; either surprises someone. Directories on the way to the file are followed as usual.
 */
export interface OutputTarget {
  readonly path: string;
  /** Replace an existing regular file. @default false */
  readonly force?: boolean;
  /** Files this command reads: the output must not be one of them. */
  readonly inputs?: readonly string[];
  /**
   * The option that sets `force`, named in the "exists" error; null when the command has none.
   * @default '--force'
   */
  readonly forceOption?: string | null;
}

const canonicalPath = async (p: string): Promise<string> => realpath(p).catch(() => resolve(p));

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InputError(
      'FK_INPUT_INVALID',
      `cannot write '${path}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: err },
    );
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function existsError(t: OutputTarget): InputError {
  const option = t.forceOption === undefined ? '--force' : t.forceOption;
  return new InputError(
    'FK_INPUT_INVALID',
    `output file '${t.path}' exists${option === null ? '' : `; pass ${option} to replace it`}`,
  );
}

/** Refuses what is there now: anything but nothing or (with `force`) a regular file. */
async function assertReplaceable(t: OutputTarget): Promise<void> {
  const st = await lstatOrNull(t.path);
  if (st === null) {
    const dir = dirname(resolve(t.path));
    const d = await lstatOrNull(dir);
    if (d === null)
      throw new InputError('FK_INPUT_INVALID', `cannot write '${t.path}': directory '${dir}' does not exist`);
    return;
  }
  if (!st.isFile()) {
    const hint = st.isSymbolicLink() ? 'give the path of the file itself' : 'fk writes only regular files';
    throw new InputError('FK_INPUT_INVALID', `output '${t.path}' is ${kindOf(st)}: ${hint}`);
  }
  if (!t.force) throw existsError(t);
}

/** Throws `InputError` when the output may not be written (see {@link OutputTarget}). Call it before the slow work. */
export async function assertOutputAllowed(t: OutputTarget): Promise<void> {
  const out = await canonicalPath(t.path);
  for (const input of t.inputs ?? []) {
    if (out === (await canonicalPath(input)))
      throw new InputError(
        'FK_INPUT_INVALID',
        `output '${t.path}' is an input of this command; inputs are never modified`,
      );
  }
  await assertReplaceable(t);
}

/**
 * Writes `text` atomically: a 0600 temp file next to the output, then `link` into place (which
 * fails if the output appeared meanwhile), or, with `force` and an existing regular file, `rename`
 * over it after checking once more what is there. A reader never sees half a file.
 */
export async function writeOutputFile(t: OutputTarget, text: string): Promise<void> {
  await assertOutputAllowed(t);
  const tmp = join(dirname(resolve(t.path)), `.${basename(t.path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
    const placed = await link(tmp, t.path).then(
      () => true,
      (err: NodeJS.ErrnoException) =>
        err.code === 'EEXIST'
          ? false
          : copyFile(tmp, t.path, constants.COPYFILE_EXCL).then(
              // filesystems without hard links
              () => true,
              (e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? false : Promise.reject(e)),
            ),
    );
    if (!placed) {
      await assertReplaceable(t);
      await rename(tmp, t.path);
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw existsError(t);
    throw new InputError('FK_INPUT_INVALID', `cannot write '${t.path}' (${code ?? 'error'})`, { cause: err });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
