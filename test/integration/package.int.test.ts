import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, ROOT } from '../support/cli';

/**
 * The package as a user installs it (issue 13 §3): `npm pack` of the built tree, installed
 * globally into a private prefix, gives a working `fk` that holds the program, the docs and the
 * licence, and no tests or sources.
 */
describe('the npm package', () => {
  beforeAll(assertBuilt);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fk-pack-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const npm = (args: readonly string[], cwd: string): string =>
    execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd,
      encoding: 'utf8',
      timeout: 300_000,
    });

  it('packs dist, docs and the licence, not tests or sources', () => {
    const [pack] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)) as Array<{
      files: Array<{ path: string }>;
    }>;
    const files = (pack?.files ?? []).map((f) => f.path);
    const expected = [
      'dist/cli/main.js',
      'dist/index.js',
      'dist/index.d.ts',
      'LICENSE',
      'README.md',
      'docs/daemon.md',
      'package.json',
    ];
    expect(files).toEqual(expect.arrayContaining(expected));
    expect(files.filter((f) => !/^(dist\/|docs\/|LICENSE$|README\.md$|package\.json$)/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.map$|\.test\.|\.build-stamp$/.test(f))).toEqual([]);
  });

  it('npm install -g of the tarball gives a working fk', () => {
    npm(['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBeDefined();
    const prefix = join(dir, 'prefix');
    npm(['install', '-g', '--prefer-offline', '--prefix', prefix, join(dir, tgz as string)], dir);
    const fk = join(prefix, 'bin', 'fk');
    expect(existsSync(fk)).toBe(true);
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      XDG_CACHE_HOME: join(dir, 'cache'),
      XDG_CONFIG_HOME: join(dir, 'config'),
    };
    const run = (...args: string[]) => spawnSync(fk, args, { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });

    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: fk');
    const created = run('--file', join(dir, 'h.txt'), 'backlog', 'create', 'Today');
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const listed = run('--file', join(dir, 'h.txt'), 'backlog', 'list');
    expect(listed.stdout).toContain('Today');
  });
});
