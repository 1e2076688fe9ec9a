import { mkdtempSync, rmSync, utimesSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClaimStore } from '../../../src/daemon/claims';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fk-claims-'));
  dirs.push(d);
  return join(d, 'seen');
};

describe('cross-daemon claims', () => {
  it('gives each (destination, id) to the first daemon, and again to it after a restart', () => {
    const dir = tempDir();
    const a = createClaimStore(dir, 'daemon-a', 60_000);
    const b = createClaimStore(dir, 'daemon-b', 60_000);
    expect(a.claim('webhook:http://x/', 'id-1')).toBe('mine');
    expect(b.claim('webhook:http://x/', 'id-1')).toBe('theirs');
    expect(b.claim('webhook:http://other/', 'id-1')).toBe('mine');
    expect(createClaimStore(dir, 'daemon-a', 60_000).claim('webhook:http://x/', 'id-1')).toBe('mine');
  });

  it('sweeps claims older than the TTL', () => {
    const dir = tempDir();
    const a = createClaimStore(dir, 'daemon-a', 60_000);
    a.claim('k', 'old');
    a.claim('k', 'new');
    const old = new Date(Date.now() - 120_000);
    const [first] = readdirSync(dir);
    utimesSync(join(dir, first as string), old, old);
    expect(a.sweep()).toBe(1);
    expect(readdirSync(dir)).toHaveLength(1);
  });
});
