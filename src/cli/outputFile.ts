import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../core/errors';

/** Where a tool writes: refuse to clobber without `--force`, never write over an input. */
export interface OutputTarget {
  readonly path: string;
  /** Replace an existing file. @default false */
  readonly force?: boolean;
  /** Files this command reads: the output must not be one of them. */
  readonly inputs?: readonly string[];
}

const canonicalPath = async (p: string): Promise<string> => realpath(p).catch(() => resolve(p));

/** Throws `InputError` when the output exists (without `force`) or is one of the inputs. Call it before the slow work. */
export async function assertOutputAllowed(t: OutputTarget): Promise<void> {
  const out = await canonicalPath(t.path);
  for (const input of t.inputs ?? []) {
    if (out === (await canonicalPath(input))) throw new InputError('FK_INPUT_INVALID', `output '${t.path}' is an input of this command; inputs are never modified`);
  }
  if (!t.force && (await stat(t.path).then(() => true, () => false))) {
    throw new InputError('FK_INPUT_INVALID', `output file '${t.path}' exists; pass --force to replace it`);
  }
}

/**
 * Writes `text` atomically: a 0600 temp file next to the output, then `rename` (with `force`) or
 * `link` (which fails if the output appeared meanwhile, so nothing is clobbered without `force`).
 * A reader never sees half a file.
 */
export async function writeOutputFile(t: OutputTarget, text: string): Promise<void> {
  await assertOutputAllowed(t);
  const tmp = join(dirname(resolve(t.path)), `.${basename(t.path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
    if (t.force) {
      await rename(tmp, t.path);
      return;
    }
    await link(tmp, t.path).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw err;
      await copyFile(tmp, t.path, constants.COPYFILE_EXCL); // filesystems without hard links
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InputError('FK_INPUT_INVALID', `output file '${t.path}' exists; pass --force to replace it`, { cause: err });
    throw new InputError('FK_INPUT_INVALID', `cannot write '${t.path}' (${code ?? 'error'})`, { cause: err });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
