import { mkdtempSync, rmSync, utimesSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClaimStore } from '../../../src/daemon/claims';
import { backoffMs } from '../../../src/daemon/delivery';

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

describe('retry backoff', () => {
  it('doubles from minMs up to maxMs, with jitter within ±20 %', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffMs(n, 100, 1000, mid))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffMs(1, 100, 1000, () => 0)).toBe(80);
    expect(backoffMs(10, 100, 1000, () => 1)).toBe(1000);
  });
});
