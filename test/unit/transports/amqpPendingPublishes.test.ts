import { PendingPublishes, type PendingPublish } from '../../../src/transports/amqp/pendingPublishes';
import { RecentIds } from '../../../src/transports/amqp/streamSubscription';

describe('amqp pending publishes', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const make = (): PendingPublishes => new PendingPublishes(5000, (p) => new Error(`timeout ${p.meta.id}`));

  it('keeps unconfirmed publishes in publish order until each is settled once', async () => {
    const pending = make();
    const sent: PendingPublish[] = [];
    const a = pending.add('a', { id: 'a', seq: 1 }, (p) => sent.push(p));
    const b = pending.add('b', { id: 'b', seq: 2 }, (p) => sent.push(p));
    expect(pending.values().map((p) => p.line)).toEqual(['a', 'b']);
    pending.settle(sent[1] as PendingPublish);
    pending.settle(sent[1] as PendingPublish, new Error('late nack'));
    await expect(b).resolves.toBeUndefined();
    pending.settle(sent[0] as PendingPublish, new Error('nacked'));
    await expect(a).rejects.toThrow('nacked');
    expect(pending.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects publishes older than the timeout, and only those', async () => {
    const pending = make();
    const old = pending.add('old', { id: 'old', seq: 1 }, () => undefined);
    jest.advanceTimersByTime(3000);
    const young = pending.add('young', { id: 'young', seq: 2 }, () => undefined);
    jest.advanceTimersByTime(2500);
    await expect(old).rejects.toThrow('timeout old');
    expect(pending.values().map((p) => p.line)).toEqual(['young']);
    pending.rejectAll((p) => new Error(`closed ${p.meta.id}`));
    await expect(young).rejects.toThrow('closed young');
    expect(jest.getTimerCount()).toBe(0);
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
});
