import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, daemonIdOf, openCheckpoints } from '../../../src/daemon/stateFiles';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fk-dstate-'));
  dirs.push(d);
  return d;
};

describe('daemon state directory', () => {
  it('lets one daemon use a state directory at a time, naming the holder, and frees it on release', () => {
    const dir = tempDir();
    const release = acquireLock(dir, 'default');
    expect(() => acquireLock(dir, 'default')).toThrow(
      new RegExp(`daemon 'default' already runs on state directory '${dir}' \\(pid ${process.pid}`),
    );
    release();
    const again = acquireLock(dir, 'default');
    again();
  });

  it('is not blocked by a lock file left behind (killed daemon), even one naming a live process', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'daemon.lock'), '1\n'); // pid 1 is alive, and not a daemon
    const release = acquireLock(dir, 'default');
    release();
  });

  it('keeps a stable daemon id', () => {
    const dir = tempDir();
    const id = daemonIdOf(dir, 'alpha');
    expect(id).toMatch(/^alpha-[0-9a-f]{8}$/);
    expect(daemonIdOf(dir, 'alpha')).toBe(id);
  });

  it('saves checkpoints with the instant and the last sequence, and reads the older instant-only form', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'checkpoints.json'), JSON.stringify({ old: 1_000, bad: 'x', torn: { seq: 3 } }));
    const c = openCheckpoints(dir);
    expect(c.get('old')).toEqual({ at: 1_000, seq: null });
    expect(c.get('bad')).toBeNull();
    expect(c.get('torn')).toBeNull();
    c.set('new', { at: 2_000, seq: 7 });
    c.save();
    expect(JSON.parse(readFileSync(join(dir, 'checkpoints.json'), 'utf8'))).toEqual({
      old: { at: 1_000, seq: null },
      new: { at: 2_000, seq: 7 },
    });
    expect(openCheckpoints(dir).get('new')).toEqual({ at: 2_000, seq: 7 });
  });

  it('starts afresh from a torn checkpoint file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'checkpoints.json'), '{"a": {"at": 1');
    expect(openCheckpoints(dir).get('a')).toBeNull();
  });
});
