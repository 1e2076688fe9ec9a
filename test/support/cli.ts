import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built CLI (`npm test` builds before running jest). */
export const ROOT = resolve(__dirname, '../..');
export const FK = join(ROOT, 'dist/cli/main.js');

export function assertBuilt(): void {
  if (!existsSync(FK)) throw new Error(`${FK} is missing: run 'npm run build' first (npm test does)`);
}

/** A sandbox with its own XDG dirs, so tests never touch the real data file. */
export function sandbox(): {
  dir: string;
  env: NodeJS.ProcessEnv;
  fk: (...args: string[]) => SpawnSyncReturns<string>;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'fk-cli-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_CACHE_HOME: join(dir, 'cache'),
  };
  return {
    dir,
    env,
    fk: (...args: string[]) => spawnSync(process.execPath, [FK, ...args], { env, encoding: 'utf8', timeout: 30_000 }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
