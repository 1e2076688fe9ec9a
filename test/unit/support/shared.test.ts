import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedDir } from '../../support/shared';

describe('the shared harness folder next to the repository', () => {
  let dir: string;
  const saved = process.env.FK_SHARED;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fk-shared-'));
    delete process.env.FK_SHARED;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.FK_SHARED;
    else process.env.FK_SHARED = saved;
  });
  const git = (...args: string[]): void => {
    const r = spawnSync('git', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };

  it('is found next to a checkout, next to the checkout a clone came from, or named by FK_SHARED', () => {
    const work = join(dir, 'work');
    const repo = join(work, 'repo');
    mkdirSync(join(work, 'shared'), { recursive: true });
    mkdirSync(repo);
    writeFileSync(join(repo, 'a.txt'), 'a\n');
    git('-C', repo, 'init', '-q');
    git('-C', repo, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'x');
    const clone = join(dir, 'elsewhere', 'clone');
    git('clone', '-q', repo, clone);
    expect(sharedDir(repo)).toBe(join(work, 'shared'));
    expect(sharedDir(clone)).toBe(join(work, 'shared'));
    rmSync(join(work, 'shared'), { recursive: true });
    // none: the path next to the checkout, for the caller to report as missing
    expect(sharedDir(clone)).toBe(join(dir, 'elsewhere', 'shared'));
    process.env.FK_SHARED = join(dir, 'mine');
    expect(sharedDir(clone)).toBe(join(dir, 'mine'));
  });
});
