import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/logger';
import type { FkEvent } from '../../../src/core/notify/notifications';
import { startDeliveryLoop, type DeliveryLoop } from '../../../src/daemon/delivery';
import type { RetryPolicy } from '../../../src/daemon/options';
import { openOutbox, type Outbox } from '../../../src/daemon/outbox';
import type { Target } from '../../../src/daemon/targets';
import { manualTimers, settle, type ManualTimers } from '../../support/manualTimers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const outboxPath = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fk-delivery-'));
  dirs.push(d);
  return join(d, 'outbox.jsonl');
};

const event = (n: number): FkEvent => ({
  id: `alice@example.org/w1/Pomodoro ${n}/work.finished@2026-06-10T10:25:00.000000Z`,
  type: 'work.finished',
  user: 'alice@example.org',
  at: '2026-06-10T10:25:00.000000Z',
  workitem: { uid: 'w1', name: 'Write' },
  pomodoro: `Pomodoro ${n}`,
});

/** A target that confirms or refuses as the test says; `attempts` lists every call, in order. */
function scriptedTarget(retry: Partial<RetryPolicy> = {}) {
  const attempts: string[] = [];
  let failing = false;
  let hold: { release: () => void } | null = null;
  const target: Target & { attempts: string[]; fail(on: boolean): void; holdNext(): { release: () => void } } = {
    name: 'hook',
    type: 'hook',
    events: ['*'],
    retry: { minMs: 100, maxMs: 1000, maxAttempts: 0, ...retry },
    dedupeKey: null,
    attempts,
    fail: (on) => {
      failing = on;
    },
    holdNext() {
      let release!: () => void;
      const p = new Promise<void>((r) => (release = r));
      hold = { release };
      holdPromise = p;
      return hold;
    },
    async deliver(e) {
      attempts.push(e.id);
      if (holdPromise !== null) {
        const p = holdPromise;
        holdPromise = null;
        await p;
      }
      if (failing) throw new Error('refused');
    },
    async close() {},
  };
  let holdPromise: Promise<void> | null = null;
  return target;
}

function loop(outbox: Outbox, target: Target, timers: ManualTimers): DeliveryLoop {
  // random() = 0.5: no jitter, so the delays are exactly min·2^(n-1), capped.
  return startDeliveryLoop(target, outbox, silentLogger, { timers, random: () => 0.5 });
}

describe('delivery loop', () => {
  it('delivers pending events in order and marks each in the outbox', async () => {
    const outbox = openOutbox(outboxPath(), { ttlMs: 60_000 });
    outbox.add(event(1), ['hook']);
    outbox.add(event(2), ['hook']);
    const t = scriptedTarget();
    const timers = manualTimers();
    const l = loop(outbox, t, timers);
    await settle();
    expect(t.attempts).toEqual([event(1).id, event(2).id]);
    expect(outbox.depth('hook')).toBe(0);
    expect(l.stats).toMatchObject({ delivered: 2, failed: 0 });
    outbox.add(event(3), ['hook']);
    l.kick();
    await settle();
    expect(t.attempts).toHaveLength(3);
    await l.stop(10);
  });

  it('retries a failing head with capped exponential backoff, holding back the events behind it', async () => {
    const outbox = openOutbox(outboxPath(), { ttlMs: 60_000 });
    outbox.add(event(1), ['hook']);
    outbox.add(event(2), ['hook']);
    const t = scriptedTarget({ minMs: 100, maxMs: 300 });
    t.fail(true);
    const timers = manualTimers();
    const l = loop(outbox, t, timers);
    await settle();
    expect(t.attempts).toEqual([event(1).id]);
    expect(timers.pending()).toEqual([100]);
    await timers.advance(99);
    expect(t.attempts).toHaveLength(1); // never before its delay
    await timers.advance(1);
    expect(t.attempts).toHaveLength(2);
    expect(timers.pending()).toEqual([200]);
    await timers.advance(200);
    expect(timers.pending()).toEqual([300]); // capped
    l.kick(); // a new event does not cut a backoff short
    await settle();
    expect(t.attempts).toHaveLength(3);
    t.fail(false);
    await timers.advance(300);
    expect(t.attempts).toEqual([event(1).id, event(1).id, event(1).id, event(1).id, event(2).id]);
    expect(l.stats).toMatchObject({ delivered: 2, failed: 3, dropped: 0, lastError: 'refused' });
    await l.stop(10);
  });

  it('gives an event up after retry.maxAttempts and goes on with the next', async () => {
    const outbox = openOutbox(outboxPath(), { ttlMs: 60_000 });
    outbox.add(event(1), ['hook']);
    outbox.add(event(2), ['hook']);
    const t = scriptedTarget({ minMs: 10, maxMs: 10, maxAttempts: 2 });
    t.fail(true);
    const timers = manualTimers();
    const l = loop(outbox, t, timers);
    await timers.advance(10);
    expect(l.stats.dropped).toBe(1);
    t.fail(false);
    await timers.advance(10);
    expect(t.attempts).toEqual([event(1).id, event(1).id, event(2).id, event(2).id]);
    expect(outbox.depth()).toBe(0);
    expect(l.stats).toMatchObject({ delivered: 1, dropped: 1, failed: 3 });
    await l.stop(10);
  });

  it('drain resolves true once the target is idle, false when the time is up', async () => {
    const outbox = openOutbox(outboxPath(), { ttlMs: 60_000 });
    outbox.add(event(1), ['hook']);
    const t = scriptedTarget({ minMs: 50, maxMs: 50 });
    t.fail(true);
    const timers = manualTimers();
    const l = loop(outbox, t, timers);
    await settle();
    const late = l.drain(40);
    await timers.advance(40);
    await expect(late).resolves.toBe(false);
    const soon = l.drain(1000);
    t.fail(false);
    await timers.advance(50);
    await expect(soon).resolves.toBe(true);
    await l.stop(10);
  });

  it('stop waits for the attempt in flight at most graceMs; that attempt stays pending for the next start', async () => {
    const path = outboxPath();
    const outbox = openOutbox(path, { ttlMs: 60_000 });
    outbox.add(event(1), ['hook']);
    const t = scriptedTarget();
    t.holdNext(); // the target never answers
    const timers = manualTimers();
    const l = loop(outbox, t, timers);
    await settle();
    const stopped = l.stop(500);
    await timers.advance(500);
    await stopped;
    expect(openOutbox(path, { ttlMs: 60_000 }).depth('hook')).toBe(1);
  });

  it('a restarted loop on the reopened outbox sends only what was not confirmed', async () => {
    const path = outboxPath();
    const first = openOutbox(path, { ttlMs: 60_000 });
    for (const n of [1, 2, 3]) first.add(event(n), ['hook']);
    const t = scriptedTarget();
    const gate = t.holdNext(); // event 1 confirmed; event 2 in flight when the process dies
    const timers = manualTimers();
    const l1 = loop(first, t, timers);
    await settle();
    expect(t.attempts).toEqual([event(1).id]);
    t.holdNext();
    gate.release();
    await settle();
    expect(t.attempts).toEqual([event(1).id, event(2).id]);
    // kill -9 here: the second loop reads the same file afresh
    const t2 = scriptedTarget();
    const l2 = loop(openOutbox(path, { ttlMs: 60_000 }), t2, timers);
    await settle();
    expect(t2.attempts).toEqual([event(2).id, event(3).id]);
    await l2.stop(10);
    const stopping = l1.stop(10);
    await timers.advance(10);
    await stopping;
  });
});
