import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * The folder `shared/` next to the repository at `root`: the oracle and the real Flowkeeper client
 * (test harnesses, never copied into the project). Looked for, in order: `FK_SHARED`; next to this
 * checkout; next to the checkout it was cloned from, when that is a local folder (so a clean clone
 * made elsewhere, `git clone -q . /tmp/fk-clean`, finds the same harnesses). Where none exists,
 * the path next to this checkout, for the caller to report as missing.
 */
export function sharedDir(root: string): string {
  if (process.env.FK_SHARED) return resolve(process.env.FK_SHARED);
  const here = join(root, '..', 'shared');
  if (existsSync(here)) return here;
  const origin = spawnSync('git', ['-C', root, 'remote', 'get-url', 'origin'], { encoding: 'utf8' });
  const url = origin.status === 0 ? origin.stdout.trim() : '';
  const local = url.startsWith('file://') ? url.slice('file://'.length) : url;
  if (isAbsolute(local)) {
    const there = join(local, '..', 'shared');
    if (existsSync(there)) return there;
  }
  return here;
}
