import { backoffDelay, createBackoff } from '../../../src/core/backoff';

describe('backoff', () => {
  it('doubles from minMs and stops at maxMs', () => {
    const policy = { minMs: 1000, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((a) => backoffDelay(a, policy))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('treats attempts below 1 as the first and survives huge attempts', () => {
    const policy = { minMs: 5, maxMs: 250 };
    expect(backoffDelay(0, policy)).toBe(5);
    expect(backoffDelay(-3, policy)).toBe(5);
    expect(backoffDelay(1e9, policy)).toBe(250);
  });

  it('spreads by jitter within base·[1-j, 1+j], never above maxMs', () => {
    const policy = { minMs: 1000, maxMs: 3000, jitter: 0.2 };
    expect(backoffDelay(1, policy, () => 0)).toBe(800);
    expect(backoffDelay(1, policy, () => 0.5)).toBe(1000);
    expect(backoffDelay(1, policy, () => 0.999_999)).toBe(1200);
    expect(backoffDelay(2, policy, () => 0.999_999)).toBe(2400);
    expect(backoffDelay(3, policy, () => 0.999_999)).toBe(3000); // 3000·1.2 capped
    expect(backoffDelay(3, policy, () => 0)).toBe(2400);
  });

  it('counts attempts and starts over after reset', () => {
    const b = createBackoff({ minMs: 100, maxMs: 1000 });
    expect([b.next(), b.next(), b.next()]).toEqual([100, 200, 400]);
    expect(b.attempt).toBe(3);
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(100);
  });

  it('refuses a policy that is not a range', () => {
    expect(() => createBackoff({ minMs: -1, maxMs: 10 })).toThrow(/minMs/);
    expect(() => createBackoff({ minMs: 10, maxMs: 5 })).toThrow(/maxMs/);
    expect(() => createBackoff({ minMs: 1, maxMs: 5, jitter: 2 })).toThrow(/jitter/);
  });
});
