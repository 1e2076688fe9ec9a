import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tryLockFile } from '../../src/transports/file';
import { FK, ROOT, assertBuilt, sandbox } from '../support/cli';

beforeAll(assertBuilt);
jest.setTimeout(120_000);

/** Resolves with the first stderr/stdout text matching `re` (no sleeps: waits for the event). */
function waitForOutput(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const on = (d: Buffer): void => {
      text += d.toString();
      if (re.test(text)) resolve(text);
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('close', (code) => reject(new Error(`exited ${String(code)} before ${re}: ${text}`)));
  });
}

function exited(child: ChildProcess): Promise<{ status: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

/** Another process that takes the lock and keeps it until killed. */
function holder(lockPath: string): ChildProcess {
  const lib = join(ROOT, 'dist/transports/file/lockFile.js');
  const code = `const r = require(${JSON.stringify(lib)}).tryLockFile(${JSON.stringify(lockPath)});
    console.log(r.held ? 'locked' : 'busy'); setInterval(() => {}, 1e6);`;
  return spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('the history lock (issue 11 item 9)', () => {
  let sb: ReturnType<typeof sandbox>;
  let data: string;
  beforeEach(() => {
    sb = sandbox();
    data = join(sb.dir, 'h.txt');
    expect(sb.fk('--file', data, 'backlog', 'create', 'seed').status).toBe(0);
  });
  afterEach(() => sb.cleanup());

  it('an empty lock file left by a killed writer blocks nobody', () => {
    writeFileSync(`${data}.lock`, '');
    const r = sb.fk('--file', data, 'backlog', 'create', 'after');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a lock file naming a live process that holds no lock blocks nobody', () => {
    writeFileSync(`${data}.lock`, String(process.pid));
    const r = sb.fk('--file', data, 'backlog', 'create', 'after');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a holder killed with SIGKILL releases the lock at once', async () => {
    const h = holder(`${data}.lock`);
    expect(await waitForOutput(h, /locked|busy/)).toContain('locked');
    const gone = new Promise((resolve) => h.on('close', resolve));
    h.kill('SIGKILL');
    await gone;
    const r = sb.fk('--file', data, 'backlog', 'create', 'after');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a live holder is named in the error: pid, command and since when', async () => {
    const h = holder(`${data}.lock`);
    try {
      expect(await waitForOutput(h, /locked|busy/)).toContain('locked');
      const before = readFileSync(data, 'utf8');
      const r = sb.fk('--file', data, 'backlog', 'create', 'blocked');
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(
        new RegExp(`^fk: history file '.*h\\.txt' is locked by pid ${h.pid} \\(.+\\), since \\d{4}-`),
      );
      expect(readFileSync(data, 'utf8')).toBe(before);
    } finally {
      h.kill('SIGKILL');
    }
  });
});

describe('one lock per file, however it is named', () => {
  it('a writer going through a symbolic link waits for the lock taken through the real path', async () => {
    const sb = sandbox();
    try {
      const data = join(sb.dir, 'h.txt');
      expect(sb.fk('--file', data, 'backlog', 'create', 'seed').status).toBe(0);
      const link = join(sb.dir, 'link.txt');
      symlinkSync(data, link);
      const lock = tryLockFile(`${data}.lock`);
      expect(lock.held).not.toBeNull();
      const child = spawn(
        process.execPath,
        [FK, '--log-level', 'info', '--file', link, 'backlog', 'create', 'via-link'],
        {
          env: sb.env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const done = exited(child);
      await waitForOutput(child, /waiting for the history lock/);
      expect(readFileSync(data, 'utf8')).not.toContain('via-link');
      lock.held?.release();
      expect((await done).status).toBe(0);
      expect(readFileSync(data, 'utf8')).toContain('via-link');
    } finally {
      sb.cleanup();
    }
  });
});

describe('a writer waiting for the lock (issue 11 item 8)', () => {
  it('refuses, and says why, when the history turned invalid while it waited', async () => {
    const sb = sandbox();
    try {
      const data = join(sb.dir, 'h.txt');
      expect(sb.fk('--file', data, 'backlog', 'create', 'seed').status).toBe(0);
      const lock = tryLockFile(`${data}.lock`);
      expect(lock.held).not.toBeNull();
      const child = spawn(process.execPath, [FK, '--log-level', 'info', '--file', data, 'backlog', 'create', 'late'], {
        env: sb.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const done = exited(child);
      await waitForOutput(child, /waiting for the history lock/);
      appendFileSync(data, '9, 2026-06-10 12:00:00+00:00, user@local.host: CreateBacklog("b9", "Gap")\n');
      const before = readFileSync(data, 'utf8');
      lock.held?.release();
      const r = await done;
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/^fk: the history is invalid, refusing to append: line \d+: sequence 9 after/m);
      expect(readFileSync(data, 'utf8')).toBe(before);
    } finally {
      sb.cleanup();
    }
  });
});

describe('a write that fails half-way (disk full, file size limit)', () => {
  it('leaves the history as it was and reports the failure, instead of half a line and exit 0', () => {
    const sb = sandbox();
    try {
      const data = join(sb.dir, 'h.txt');
      expect(sb.fk('--file', data, 'backlog', 'create', 'seed').status).toBe(0);
      // Grow the file to just under 1 KiB, the limit set below, so the next append is cut short.
      const size = readFileSync(data).length;
      expect(sb.fk('--file', data, 'backlog', 'create', 'x'.repeat(1000 - size - 120)).status).toBe(0);
      const before = readFileSync(data, 'utf8');
      expect(before.length).toBeGreaterThan(900);
      expect(before.length).toBeLessThan(1024);
      const r = spawnSync(
        'bash',
        [
          '-c',
          'ulimit -f 1; exec "$0" "$@"',
          process.execPath,
          FK,
          '--file',
          data,
          'backlog',
          'create',
          'y'.repeat(200),
        ],
        {
          env: sb.env,
          encoding: 'utf8',
        },
      );
      expect(r.stderr).toMatch(/^fk: cannot append to history file '.*h\.txt': EFBIG/);
      expect(r.status).toBe(4);
      expect(readFileSync(data, 'utf8')).toBe(before);
      expect(sb.fk('--file', data, 'check').status).toBe(0);
    } finally {
      sb.cleanup();
    }
  });
});
