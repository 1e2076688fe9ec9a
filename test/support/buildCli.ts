import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

/**
 * Builds the CLI into a private directory under `.fk-test/` (git-ignored, inside the repo so that
 * `node_modules` resolves), for tests that spawn `node …/cli/main.js`. Other engineers' work in
 * progress may not compile: type errors are tolerated as long as the files the test needs were
 * emitted (tsc emits despite errors).
 */
export const REPO = join(__dirname, '../..');

export function buildCli(required: readonly string[] = []): { main: string; dir: string; cleanup: () => void } {
  const dir = join(REPO, '.fk-test', `cli-build-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync(
      process.execPath,
      [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dir],
      { cwd: REPO, stdio: 'pipe' },
    );
  } catch {
    // type errors elsewhere in the tree: checked below by looking for what we need
  }
  const main = join(dir, 'cli/main.js');
  for (const f of ['cli/main.js', ...required]) {
    if (!existsSync(join(dir, f))) throw new Error(`build did not emit ${f}`);
  }
  return { main, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI with a clean environment (no FK_* from the developer's shell) plus `env`. */
export function runCli(
  main: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  cwd: string,
): CliRun {
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: cwd,
    XDG_CACHE_HOME: join(cwd, 'cache'),
    XDG_CONFIG_HOME: join(cwd, 'config'),
    XDG_DATA_HOME: join(cwd, 'data'),
  };
  const r = spawnSync(process.execPath, [main, ...args], {
    cwd,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
