import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FkEvent } from '../../../src/core/notify/notifications';
import { openOutbox } from '../../../src/daemon/outbox';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempPath = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fk-outbox-'));
  dirs.push(d);
  return join(d, 'state', 'outbox.jsonl');
};

const event = (n: number): FkEvent => ({
  id: `alice@example.org/w1/Pomodoro ${n}/work.finished@2026-06-10T10:25:00.000000Z`,
  type: 'work.finished',
  user: 'alice@example.org',
  at: '2026-06-10T10:25:00.000000Z',
  workitem: { uid: 'w1', name: 'Write' },
  pomodoro: `Pomodoro ${n}`,
});

const DAY = 24 * 3600 * 1000;

describe('durable outbox', () => {
  it('keeps what was accepted across a crash (reopened without close) and delivers each target once', () => {
    const path = tempPath();
    const a = openOutbox(path, { ttlMs: DAY });
    a.add(event(1), ['webhook', 'stdout']);
    a.add(event(2), ['webhook']);
    a.markDone(event(1).id, 'stdout');
    // crash: no close(), no compaction; a fresh process opens the same file
    const b = openOutbox(path, { ttlMs: DAY });
    expect(b.depth()).toBe(2);
    expect(b.depth('webhook')).toBe(2);
    expect(b.depth('stdout')).toBe(0);
    expect(b.next('webhook')?.id).toBe(event(1).id);
    b.markDone(event(1).id, 'webhook');
    expect(b.next('webhook')?.id).toBe(event(2).id);
    b.markDone(event(2).id, 'webhook');
    expect(b.next('webhook')).toBeUndefined();
    const c = openOutbox(path, { ttlMs: DAY });
    expect(c.depth()).toBe(0);
    expect(c.next('webhook')).toBeUndefined();
  });

  it('does not accept an id twice, pending or delivered within the TTL', () => {
    const path = tempPath();
    let now = 1_000_000;
    const o = openOutbox(path, { ttlMs: DAY, now: () => now });
    o.add(event(1), ['webhook']);
    o.add(event(1), ['webhook']);
    expect(o.depth('webhook')).toBe(1);
    o.markDone(event(1).id, 'webhook');
    o.add(event(1), ['webhook']);
    expect(o.depth('webhook')).toBe(0);
    const reopened = openOutbox(path, { ttlMs: DAY, now: () => now });
    expect(reopened.has(event(1).id)).toBe(true);
    now += 2 * DAY;
    reopened.compact();
    expect(reopened.has(event(1).id)).toBe(false);
  });

  it('ignores a torn last line (a crash mid-append): that event was never acknowledged', () => {
    const path = tempPath();
    const o = openOutbox(path, { ttlMs: DAY });
    o.add(event(1), ['webhook']);
    appendFileSync(path, '{"op":"add","id":"torn","t":1,"targets":["webh');
    const p = openOutbox(path, { ttlMs: DAY });
    expect(p.depth()).toBe(1);
    expect(p.has('torn')).toBe(false);
    p.add(event(2), ['webhook']);
    expect(openOutbox(path, { ttlMs: DAY }).depth('webhook')).toBe(2);
  });

  it('compacts delivery marks away and keeps only pending entries and recent ids', () => {
    const path = tempPath();
    const o = openOutbox(path, { ttlMs: DAY, compactAfter: 10 });
    for (let i = 0; i < 25; i++) {
      o.add(event(i), ['webhook']);
      o.markDone(event(i).id, 'webhook');
    }
    o.add(event(99), ['webhook']);
    o.compact();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { op: string });
    expect(lines.filter((l) => l.op === 'done')).toHaveLength(0);
    expect(lines.filter((l) => l.op === 'seen')).toHaveLength(25);
    expect(lines.filter((l) => l.op === 'add')).toHaveLength(1);
    expect(openOutbox(path, { ttlMs: DAY }).next('webhook')?.id).toBe(event(99).id);
  });

  it('drops pending deliveries to a target that is no longer configured', () => {
    const path = tempPath();
    const o = openOutbox(path, { ttlMs: DAY });
    o.add(event(1), ['old', 'webhook']);
    const p = openOutbox(path, { ttlMs: DAY, targets: ['webhook'] });
    expect(p.depth('old')).toBe(0);
    expect(p.depth('webhook')).toBe(1);
  });

  it('marks a dropped delivery as settled', () => {
    const path = tempPath();
    const o = openOutbox(path, { ttlMs: DAY });
    o.add(event(1), ['webhook']);
    o.markDropped(event(1).id, 'webhook');
    expect(openOutbox(path, { ttlMs: DAY }).depth()).toBe(0);
  });
});
