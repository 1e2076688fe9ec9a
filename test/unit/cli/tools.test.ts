import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, runCli, type CliRun } from '../../support/buildCli';

/**
 * `fk export`, `fk import`, `fk stats` and `fk migrate` end to end: the built CLI is spawned on
 * copies of the fixtures in a temp directory with a clean environment.
 */
jest.setTimeout(120_000);

const ORACLE = join(__dirname, '../../fixtures/oracle');
const HAND = join(__dirname, '../../fixtures/tools/stats-hand.txt');
const PASSPHRASE = 'correct horse battery staple';
const NOW = ['--now', '2030-01-01T00:00:00Z'];

let build: ReturnType<typeof buildCli>;
let dir: string;
const fk = (args: readonly string[], env: Record<string, string> = {}): CliRun => runCli(build.main, args, env, dir);
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
const copy = (fixture: string, name: string): string => {
  copyFileSync(fixture, join(dir, name));
  return join(dir, name);
};
/** `fk state` of a file, without last_seq. */
function state(file: string, env: Record<string, string> = {}): Record<string, unknown> {
  const r = fk(['state', file, ...NOW], env);
  expect(r.status).toBe(0);
  const s = JSON.parse(r.stdout) as Record<string, unknown>;
  delete s.last_seq;
  return s;
}

beforeAll(() => {
  build = buildCli([
    'cli/commands/export.js',
    'cli/commands/import.js',
    'cli/commands/stats.js',
    'cli/commands/migrate.js',
  ]);
}, 240_000);
afterAll(() => build?.cleanup());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fk-tools-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('fk export', () => {
  it('--compact writes a shorter history with the same final state and leaves the source alone', () => {
    // 213 lines that compact by 30 or more (compact.test.ts); fixture-random takes seconds to compact
    const src = copy(join(ORACLE, 'gen-s05-cut-work.txt'), 'src.txt');
    const before = read('src.txt');
    const r = fk(['export', '--from', src, '--out', 'out.txt', '--compact', ...NOW]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^exported \d+ records from .* \(plain\)\ncompaction saved \d+ of 213 lines/);
    expect(r.stderr).toBe(''); // no progress bar: stderr is not a terminal
    const out = read('out.txt').trimEnd().split('\n');
    expect(out.length).toBeLessThan(213 - 30);
    expect(out.map((l) => Number(l.split(',')[0]))).toEqual(out.map((_l, i) => i + 1));
    expect(state(join(dir, 'out.txt'))).toEqual(state(src));
    expect(read('src.txt')).toBe(before);
  });

  it('refuses to overwrite without --force, and replaces with it', () => {
    const src = copy(join(ORACLE, 'gen-s01.txt'), 'src.txt');
    writeFileSync(join(dir, 'out.txt'), 'keep me\n');
    const refused = fk(['export', '--from', src, '--out', 'out.txt']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("output file 'out.txt' exists; pass --force to replace it");
    expect(read('out.txt')).toBe('keep me\n');
    expect(fk(['export', '--from', src, '--out', 'out.txt', '--force']).status).toBe(0);
    expect(read('out.txt')).toBe(read('src.txt')); // a full export of a Flowkeeper file is the same file
  });

  it('never replaces a FIFO or a symbolic link, even with --force', () => {
    const src = copy(join(ORACLE, 'gen-s01.txt'), 'src.txt');
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const r = fk(['export', '--from', src, '--out', 'pipe', '--force', ...NOW]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("fk: output 'pipe' is a FIFO: fk writes only regular files\n");
    expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
    symlinkSync(src, join(dir, 'ln.txt'));
    const l = fk(['export', '--from', join(ORACLE, 'gen-s01.txt'), '--out', 'ln.txt', '--force', ...NOW]);
    expect(l.status).toBe(2);
    expect(l.stderr).toContain("output 'ln.txt' is a symbolic link");
    expect(lstatSync(join(dir, 'ln.txt')).isSymbolicLink()).toBe(true);
  });

  it('refuses to write over its own source', () => {
    const src = copy(join(ORACLE, 'gen-s01.txt'), 'src.txt');
    const r = fk(['export', '--from', src, '--out', src, '--force']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('inputs are never modified');
  });

  it('--encrypt writes Fernet records Flowkeeper can read back to the same state', () => {
    const src = copy(join(ORACLE, 'enc-s01.txt'), 'enc.txt');
    const r = fk(['--file', src, 'export', '--out', 'out.txt', '--encrypt'], { FK_PASSPHRASE: PASSPHRASE });
    expect(r.status).toBe(0);
    expect(
      read('out.txt')
        .trimEnd()
        .split('\n')
        .every((l) => l.startsWith('+')),
    ).toBe(true);
    const pass = { FK_PASSPHRASE: PASSPHRASE };
    expect(state(join(dir, 'out.txt'), pass)).toEqual(state(src, pass));
  });
});

describe('fk import', () => {
  it('stops before appending anything when the file has a bad line, and names it', () => {
    const target = copy(join(ORACLE, 'gen-s01.txt'), 'target.txt');
    const before = read('target.txt');
    const r = fk(['--file', target, 'import', join(ORACLE, 'broken-bad-syntax.txt')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fk: line 160: bad syntax/);
    expect(read('target.txt')).toBe(before);
  });

  it('stops before appending anything when the target would reject a record, naming the source line', () => {
    const target = copy(HAND, 'target.txt');
    writeFileSync(
      target,
      `${read('target.txt')}26, 2026-06-16 09:00:00+00:00, alice@example.org: DeleteCategory("#wg_Pareto", "")\n`,
    );
    const before = read('target.txt');
    writeFileSync(
      join(dir, 'src.txt'),
      [
        '1, 2026-06-01 08:00:00+00:00, admin@local.host: CreateUser("bob@example.org", "Bob")',
        '2, 2026-06-02 08:00:00+00:00, bob@example.org: CreateBacklog("bb", "Bob\'s")',
        '3, 2026-06-02 08:01:00+00:00, bob@example.org: DeleteCategory("#wg_Pareto", "")',
        '',
      ].join('\n'),
    );
    const r = fk(['--file', target, '--user', 'alice@example.org', 'import', 'src.txt']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^fk: line 3: cannot import DeleteCategory: category '#wg_Pareto' not found/);
    expect(read('target.txt')).toBe(before);
  });

  it('--replay appends new copies by the current user; --merge of the same file then adds nothing', () => {
    const target = join(dir, 'target.txt');
    const src = join(ORACLE, 'gen-s01.txt');
    const first = fk(['--file', target, 'import', src]);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('imported 225 records');
    const once = read('target.txt');
    const merged = fk(['--file', target, 'import', '--merge', target]);
    expect(merged.status).toBe(0);
    expect(merged.stdout).toContain('imported 0 records');
    expect(read('target.txt')).toBe(once);
    const dry = fk(['--file', target, 'import', src, '--dry-run', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ mode: 'replay', dryRun: true, appended: 0, planned: 225 });
    expect(read('target.txt')).toBe(once);
  });
});

describe('fk stats', () => {
  it('prints the hand-computed figures as JSON and writes an SVG chart', () => {
    const r = fk(['--user', 'alice@example.org', 'stats', HAND, '--json', '--svg', 'chart.svg', ...NOW]);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { total: Record<string, number>; weeks: Array<{ key: string }> };
    expect(s.total).toMatchObject({
      pomodoros: 3,
      focusSeconds: 4200,
      trackers: 1,
      trackedSeconds: 1800,
      interruptions: 2,
      voided: 2,
    });
    expect(s.weeks.map((w) => w.key)).toEqual(['2026-W24', '2026-W25']);
    expect(read('chart.svg')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
    const again = fk(['--user', 'alice@example.org', 'stats', HAND, '--svg', 'chart.svg']);
    expect(again.status).toBe(2);
  });

  it('names the users of the history when --user is not one of them', () => {
    const r = fk(['stats', HAND]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('it holds: alice@example.org');
  });
});

describe('fk migrate', () => {
  it('copies a file to a new Fernet file, verifies it, and refuses a target that has records', () => {
    const src = copy(join(ORACLE, 'gen-s01.txt'), 'src.txt');
    const r = fk(['migrate', '--from', src, '--to', 'copy.txt', '--to-encryption', 'fernet', ...NOW], {
      FK_PASSPHRASE: PASSPHRASE,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^migrated 226 records from .* \(plain\) to 'copy.txt' \(fernet\) .*final state verified identical/,
    );
    expect(existsSync(join(dir, 'copy.txt'))).toBe(true);
    expect(state(join(dir, 'copy.txt'), { FK_PASSPHRASE: PASSPHRASE })).toEqual(state(src));
    const again = fk(['migrate', '--from', src, '--to', 'copy.txt'], { FK_PASSPHRASE: PASSPHRASE });
    expect(again.status).toBe(3);
    expect(again.stderr).toContain("target 'copy.txt' already holds 226 records");
  });

  it('migrates into an existing empty file, and never offers an option it does not have', () => {
    const src = copy(join(ORACLE, 'gen-s01.txt'), 'src.txt');
    writeFileSync(join(dir, 'empty.txt'), '\n# nothing yet\n');
    const r = fk(['migrate', '--from', src, '--to', 'empty.txt', ...NOW]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(state(join(dir, 'empty.txt'))).toEqual(state(src));
    const none = fk(['migrate', '--from', src, '--to', 'no/such/dir.txt', ...NOW]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^fk: cannot write 'no\/such\/dir.txt': directory '.*no\/such' does not exist\n$/);
    expect(none.stderr).not.toContain('--force');
  });
});
