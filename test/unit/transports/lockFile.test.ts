import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeHolder, lockFile, tryLockFile } from '../../../src/transports/file';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fk-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('lock file', () => {
  it('excludes a second holder, even in the same process, and names the first', () => {
    const path = join(dir, 'x.lock');
    const a = tryLockFile(path);
    expect(a.held).not.toBeNull();
    const b = tryLockFile(path);
    expect(b.held).toBeNull();
    expect(b.held === null && b.holder).toMatchObject({ pid: process.pid });
    a.held?.release();
    const c = tryLockFile(path);
    expect(c.held).not.toBeNull();
    c.held?.release();
    expect(existsSync(path)).toBe(false);
  });

  it('is not blocked by an empty lock file (a holder killed before it wrote anything)', () => {
    const path = join(dir, 'x.lock');
    writeFileSync(path, '');
    const r = tryLockFile(path);
    expect(r.held).not.toBeNull();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    r.held?.release();
  });

  it('is not blocked by a lock file naming a live process that does not hold the lock', () => {
    const path = join(dir, 'x.lock');
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'h', since: '2000-01-01T00:00:00Z' }));
    const r = tryLockFile(path);
    expect(r.held).not.toBeNull();
    r.held?.release();
  });

  it('times out naming the holder: pid, command and since when', async () => {
    const path = join(dir, 'x.lock');
    const a = tryLockFile(path);
    const waits: unknown[] = [];
    const err = await lockFile(path, { timeoutMs: 50, what: 'thing', onWait: (h) => waits.push(h) }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'FK_TRANSPORT_TIMEOUT', retryable: true });
    expect((err as Error).message).toMatch(
      new RegExp(`^thing is locked by pid ${process.pid} \\(.+\\), since \\d{4}-`),
    );
    expect(waits).toHaveLength(1);
    a.held?.release();
  });

  it('hands the lock to a waiter once the holder releases it', async () => {
    const path = join(dir, 'x.lock');
    const a = tryLockFile(path);
    const waiting = lockFile(path, { timeoutMs: 60_000, onWait: () => a.held?.release() });
    const b = await waiting;
    expect(tryLockFile(path).held).toBeNull();
    b.release();
  });

  it('describes a holder that has not written its details yet, and escapes control characters', () => {
    expect(describeHolder(null)).toMatch(/another process/);
    expect(describeHolder({ pid: 7, command: 'fk\x1b[2J x' })).toBe('pid 7 (fk?[2J x)');
  });
});
