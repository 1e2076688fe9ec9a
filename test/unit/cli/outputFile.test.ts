import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertOutputAllowed, writeOutputFile } from '../../../src/cli/outputFile';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fk-out-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('output files (issue 11 item 12)', () => {
  it('writes a new path, and replaces a regular file only with force', async () => {
    const out = join(dir, 'out.txt');
    await writeOutputFile({ path: out }, 'one\n');
    await expect(writeOutputFile({ path: out }, 'two\n')).rejects.toThrow(
      `output file '${out}' exists; pass --force to replace it`,
    );
    await writeOutputFile({ path: out, force: true }, 'two\n');
    expect(readFileSync(out, 'utf8')).toBe('two\n');
    expect(lstatSync(out).mode & 0o777).toBe(0o600);
  });

  it('refuses to replace a FIFO, even with force, and leaves it a FIFO', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    await expect(writeOutputFile({ path: fifo, force: true }, 'x\n')).rejects.toMatchObject({
      code: 'FK_INPUT_INVALID',
      message: `output '${fifo}' is a FIFO: fk writes only regular files`,
    });
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('refuses a directory and a device', async () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    await expect(assertOutputAllowed({ path: sub, force: true })).rejects.toThrow(`output '${sub}' is a directory`);
    await expect(assertOutputAllowed({ path: '/dev/null', force: true })).rejects.toThrow(
      `output '/dev/null' is a character device`,
    );
  });

  it('refuses a symbolic link, to a file or dangling, and touches neither link nor target', async () => {
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'keep\n');
    const ln = join(dir, 'link.txt');
    symlinkSync(target, ln);
    await expect(writeOutputFile({ path: ln, force: true }, 'x\n')).rejects.toThrow(
      `output '${ln}' is a symbolic link: give the path of the file itself`,
    );
    expect(lstatSync(ln).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('keep\n');
    const dangling = join(dir, 'dangling.txt');
    symlinkSync(join(dir, 'nowhere.txt'), dangling);
    await expect(writeOutputFile({ path: dangling }, 'x\n')).rejects.toThrow('is a symbolic link');
    expect(() => lstatSync(join(dir, 'nowhere.txt'))).toThrow();
  });

  it('names a missing directory, and offers --force only when the command has it', async () => {
    await expect(writeOutputFile({ path: join(dir, 'no/such/out.txt') }, 'x\n')).rejects.toThrow(
      `directory '${join(dir, 'no/such')}' does not exist`,
    );
    const out = join(dir, 'out.txt');
    writeFileSync(out, '');
    await expect(assertOutputAllowed({ path: out, forceOption: null })).rejects.toThrow(
      new RegExp(`^output file '${out}' exists$`),
    );
  });
});
