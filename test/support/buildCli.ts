import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type * as TypeScript from 'typescript';

/**
 * Builds the CLI into a directory under `.fk-test/` (git-ignored, inside the repo so that
 * `node_modules` resolves), for tests that spawn `node …/cli/main.js`. Each file of `src/` is
 * transpiled on its own (TypeScript's `transpileModule`, the compiler options of
 * tsconfig.build.json): no type check, so other engineers' work in progress that does not
 * type-check still runs (`npm test` and `tsc` check the types; the tree is
 * `isolatedModules`-clean, as ts-jest needs too).
 *
 * The build is named by a hash of what it is built from and kept: the next test file or run on
 * the same sources reuses it instead of loading the compiler again (seconds on a busy machine).
 * Builds of other sources older than an hour are removed when a new one is made.
 */
export const REPO = join(__dirname, '../..');
const CACHE = join(REPO, '.fk-test');
const STALE_MS = 60 * 60 * 1000;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function compilerOptions(ts: typeof TypeScript): TypeScript.CompilerOptions {
  const configPath = join(REPO, 'tsconfig.build.json');
  const { config, error } = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, REPO, undefined, configPath);
  return { ...parsed.options, sourceMap: false, declaration: false, noEmit: false };
}

function transpile(files: ReadonlyMap<string, string>, src: string, out: string): void {
  const ts = require('typescript') as typeof TypeScript; // loaded only when a build is needed
  const options = compilerOptions(ts);
  for (const [file, text] of files) {
    const target = join(out, relative(src, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, ts.transpileModule(text, { compilerOptions: options, fileName: file }).outputText);
  }
}

function pruneOtherBuilds(keep: string): void {
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (!name.startsWith('cli-') || path === keep) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another process pruned it first
    }
  }
}

export function buildCli(required: readonly string[] = []): { main: string; dir: string; cleanup: () => void } {
  const src = join(REPO, 'src');
  const files = new Map(sourceFiles(src).map((f) => [f, readFileSync(f, 'utf8')] as const));
  const hash = createHash('sha256');
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'node_modules/typescript/package.json']) {
    hash.update(`${f}\0${readFileSync(join(REPO, f), 'utf8')}\0`);
  }
  for (const [f, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    hash.update(`${relative(src, f)}\0${text}\0`);
  }
  const dir = join(CACHE, `cli-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(join(dir, '.complete'))) {
    const tmp = `${dir}.tmp-${randomUUID()}`;
    mkdirSync(tmp, { recursive: true });
    transpile(files, src, tmp);
    writeFileSync(join(tmp, '.complete'), '');
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // a parallel test file built the same sources first
    }
    pruneOtherBuilds(dir);
  }
  const main = join(dir, 'cli/main.js');
  for (const f of ['cli/main.js', ...required]) {
    if (!existsSync(join(dir, f))) throw new Error(`build did not emit ${f}`);
  }
  // The build is kept for the next test file and run (see above): nothing to clean up.
  return { main, dir, cleanup: () => undefined };
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
