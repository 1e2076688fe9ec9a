import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { randomUUID } from 'node:crypto';
import ts from 'typescript';

/**
 * Builds the CLI into a private directory under `.fk-test/` (git-ignored, inside the repo so that
 * `node_modules` resolves), for tests that spawn `node …/cli/main.js`. Each file of `src/` is
 * transpiled on its own (TypeScript's `transpileModule`, the compiler options of
 * tsconfig.build.json): no type check, so it takes a second instead of a full `tsc` run, and other
 * engineers' work in progress that does not type-check still runs (`npm test` and `tsc` check the
 * types; the tree is `isolatedModules`-clean, as ts-jest needs too).
 */
export const REPO = join(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(REPO, 'tsconfig.build.json');
  const { config, error } = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, REPO, undefined, configPath);
  return { ...parsed.options, sourceMap: false, declaration: false, noEmit: false };
}

export function buildCli(required: readonly string[] = []): { main: string; dir: string; cleanup: () => void } {
  const dir = join(REPO, '.fk-test', `cli-build-${randomUUID()}`);
  const src = join(REPO, 'src');
  const options = compilerOptions();
  for (const file of sourceFiles(src)) {
    const out = join(dir, relative(src, file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
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
