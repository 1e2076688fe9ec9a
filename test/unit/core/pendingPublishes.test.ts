import { PendingPublishes, type PendingPublish } from '../../../src/core/pendingPublishes';
import { RecentIds } from '../../../src/transports/amqp/streamSubscription';

describe('pending publishes (both broker transports)', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('keeps unconfirmed publishes in publish order until each is settled once, and says when it is busy', async () => {
    const c = clock();
    const events: string[] = [];
    const pending = new PendingPublishes({
      now: c.now,
      onBusy: () => events.push('busy'),
      onIdle: () => events.push('idle'),
    });
    const a = pending.add('a', { id: 'a', seq: 1 }, undefined);
    const b = pending.add('b', { id: 'b', seq: 2 }, undefined);
    expect(pending.values().map((p) => p.line)).toEqual(['a', 'b']);
    pending.settle(b);
    pending.settle(b, new Error('late nack'));
    await expect(b.promise).resolves.toBeUndefined();
    pending.settle(a, new Error('nacked'));
    await expect(a.promise).rejects.toThrow('nacked');
    expect(pending.size).toBe(0);
    expect(events).toEqual(['busy', 'idle']);
  });

  it('registers an id once: a second publish of a pending id shares its promise', () => {
    const pending = new PendingPublishes<{ resent: boolean }>();
    const first = pending.add('x', { id: 'same', seq: 1 }, { resent: false });
    expect(pending.add('x', { id: 'same', seq: 1 }, { resent: true })).toBe(first);
    expect(pending.get('same')?.extra).toEqual({ resent: false });
  });

  it('expires publishes older than the timeout, and only those', async () => {
    const c = clock();
    const pending = new PendingPublishes({ now: c.now });
    const old = pending.add('old', { id: 'old', seq: 1 }, undefined);
    c.advance(3000);
    const young = pending.add('young', { id: 'young', seq: 2 }, undefined);
    c.advance(2500);
    pending.expire(5000, (p: PendingPublish) => new Error(`timeout ${p.meta.id}`));
    await expect(old.promise).rejects.toThrow('timeout old');
    expect(pending.values().map((p) => p.line)).toEqual(['young']);
    pending.rejectAll((p) => new Error(`closed ${p.meta.id}`));
    await expect(young.promise).rejects.toThrow('closed young');
  });
});

describe('amqp recent ids', () => {
  it('forgets the oldest ids beyond its capacity', () => {
    const ids = new RecentIds(2);
    ids.add('a');
    ids.add('b');
    ids.add('c');
    expect([ids.has('a'), ids.has('b'), ids.has('c')]).toEqual([false, true, true]);
  });

  it('remembers exactly the ids an insertion-ordered set trimmed to its capacity would', () => {
    // The reference: the Set-based version the ring replaced (a repeated id keeps its place).
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (const capacity of [0, 1, 3, 50]) {
      const ids = new RecentIds(capacity);
      const reference = new Set<string>();
      for (let i = 0; i < 2000; i++) {
        const id = `id-${next() % 120}`;
        reference.add(id);
        if (reference.size > capacity) reference.delete(reference.values().next().value as string);
        ids.add(id);
      }
      const known = Array.from({ length: 120 }, (_, k) => `id-${k}`).filter((id) => ids.has(id));
      expect(known.sort()).toEqual([...reference].sort());
    }
  });
});
