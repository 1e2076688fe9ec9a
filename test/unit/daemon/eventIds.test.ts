import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/app/config';
import { createClient, type Client } from '../../../src/core/client';
import { manualClock, type Micros } from '../../../src/core/clock';
import { silentLogger } from '../../../src/core/logger';
import { legacyEventId, type FkEvent } from '../../../src/core/notify/notifications';
import type { StrategyName } from '../../../src/core/engine/records';
import { parseInstant } from '../../../src/core/engine/time';
import { createAcceptor } from '../../../src/daemon/acceptor';
import { createClaimStore } from '../../../src/daemon/claims';
import { openOutbox, type Outbox } from '../../../src/daemon/outbox';
import { createSessionWatcher } from '../../../src/daemon/sessionWatcher';
import type { Target } from '../../../src/daemon/targets';
import { createMemoryHub, createMemoryTransport } from '../../../src/transports/memory';
import { manualTimers, settle } from '../../support/manualTimers';
import { memorySessions } from '../../support/memorySessions';

const USER = 'alice@example.org';
const T0 = parseInstant('2026-06-10T10:00:00Z') as Micros;
const DAY_MS = 24 * 3600 * 1000;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fk-event-ids-'));
  dirs.push(d);
  return d;
};

/**
 * A history written by fk's own client (which refuses what the engine would refuse, so the
 * history is valid) and the daemon's real derivation (session watcher over the client), on an
 * in-memory broker. `fk` stamps records with `Date.now()`, to the millisecond: records written
 * in one burst (a script, the library) share an instant, which the writer's fixed clock models.
 */
async function derive(actions: Array<[StrategyName, string[]]>): Promise<FkEvent[]> {
  const hub = createMemoryHub();
  const clock = manualClock(T0);
  const writer: Client = createClient({
    transport: createMemoryTransport(hub),
    user: USER,
    clock: manualClock(T0),
    sequencing: 'race',
  });
  await writer.start();
  const events: FkEvent[] = [];
  const watcher = createSessionWatcher({
    config: loadConfig({ backend: 'amqp://127.0.0.1/', user: USER }, { HOME: tmpdir() }),
    open: memorySessions(hub).open,
    clock,
    timers: manualTimers(),
    logger: silentLogger,
    daemonId: 'd1',
    late: 'send',
    checkpoint: null,
    emit: (e) => events.push(e),
    reschedule: () => undefined,
  });
  await watcher.start();
  const plan: Array<[StrategyName, string[]]> = [
    ['CreateUser', [USER, 'Alice']],
    ['CreateBacklog', ['b1', 'Today']],
    ['CreateWorkitem', ['w1', 'b1', 'Write the report']],
    ['AddPomodoro', ['w1', '2']],
  ];
  for (const [name, params] of [...plan, ...actions]) {
    await writer.execute(name, params, name === 'CreateUser' ? { user: 'admin@local.host' } : {});
    await settle();
  }
  await watcher.close();
  await writer.close();
  return events.filter((e) => !e.type.startsWith('daemon.'));
}

/** One target, the acceptor the daemon runs, and a real outbox and claims directory. */
function acceptorOn(outbox: Outbox, claimsDir: string, owner: string) {
  const target: Target = {
    name: 'webhook',
    type: 'webhook',
    events: ['*'],
    retry: { maxAttempts: 1, backoffMs: [1] } as unknown as Target['retry'],
    dedupeKey: 'webhook:http://example.org/',
    deliver: async () => undefined,
    close: async () => undefined,
  };
  return createAcceptor({
    outbox,
    claims: createClaimStore(claimsDir, owner, DAY_MS),
    targets: [target],
    kick: () => undefined,
    logger: silentLogger,
  });
}

describe('notification ids of events that share an instant', () => {
  // Each list: distinct happenings of one pomodoro (or workitem), of one type, at one instant.
  const cases: Array<[string, Array<[StrategyName, string[]]>, string]> = [
    [
      'a pomodoro started, voided and started again',
      [
        ['StartTimer', ['w1', '1500', '300']],
        ['VoidPomodoro', ['w1']],
        ['StartTimer', ['w1', '1500', '300']],
        ['VoidPomodoro', ['w1']],
      ],
      'work.started pomodoro.voided work.started pomodoro.voided',
    ],
    [
      'two interruptions of one pomodoro',
      [
        ['StartTimer', ['w1', '1500', '300']],
        ['AddInterruption', ['w1', 'Phone', '30']],
        ['AddInterruption', ['w1', 'Door', '60']],
      ],
      'work.started interruption.added interruption.added',
    ],
    [
      'a workitem completed, restored and completed again',
      [
        ['CompleteWorkitem', ['w1', 'finished']],
        ['RestoreWorkitem', ['w1']],
        ['CompleteWorkitem', ['w1', 'canceled']],
      ],
      'workitem.completed workitem.completed',
    ],
  ];

  it.each(cases)('%s: each happening has its own id, and each is accepted', async (_name, actions, types) => {
    const events = await derive(actions);
    expect(events.map((e) => e.type).join(' ')).toBe(types);
    // Same instant, same pomodoro (or workitem), same type: only the record tells them apart.
    expect(new Set(events.map((e) => e.at)).size).toBe(1);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const outbox = openOutbox(join(tempDir(), 'outbox.jsonl'), { ttlMs: DAY_MS });
    const acceptor = acceptorOn(outbox, join(tempDir(), 'seen'), 'd1');
    for (const e of events) acceptor.accept(e);
    expect(acceptor.stats.deduplicated).toBe(0);
    expect(outbox.depth('webhook')).toBe(events.length);
    outbox.close();
  });

  it('derives the same ids on every run (two daemons, or one after a restart)', async () => {
    const actions = cases[0]?.[1] ?? [];
    const a = await derive(actions);
    const b = await derive(actions);
    expect(b.map((e) => e.id)).toEqual(a.map((e) => e.id));
    // The record that caused it is part of the id, after the instant.
    expect(a.map((e) => e.id.slice(e.id.indexOf('#')))).toEqual(a.map((e) => `#${String(e.seq)}`));
  });

  it('a daemon upgraded in place does not send again what the previous version accepted under the old id', async () => {
    const events = await derive([
      ['StartTimer', ['w1', '1500', '300']],
      ['AddInterruption', ['w1', 'Phone', '30']],
      ['VoidPomodoro', ['w1']],
    ]);
    const dir = tempDir();
    // The previous version accepted the first two events under their old ids, delivered one, and
    // crashed before its checkpoint (so the new version derives them again).
    const before = openOutbox(join(dir, 'outbox.jsonl'), { ttlMs: DAY_MS });
    const old = acceptorOn(before, join(dir, 'seen'), 'd1');
    const [first, second] = events.map((e) => ({ ...e, id: legacyEventId(e.id) }));
    old.accept(first as FkEvent);
    old.accept(second as FkEvent);
    before.markDone((first as FkEvent).id, 'webhook');
    const after = openOutbox(join(dir, 'outbox.jsonl'), { ttlMs: DAY_MS });
    const upgraded = acceptorOn(after, join(dir, 'seen'), 'd1');
    for (const e of events) upgraded.accept(e);
    // The delivered one is not sent again, the pending one stays pending once (under its old id),
    // and the third, which the old version never saw, is accepted: nothing lost, nothing twice.
    expect(upgraded.stats.deduplicated).toBe(2);
    expect(after.depth('webhook')).toBe(2);
    expect(after.next('webhook')?.id).toBe((second as FkEvent).id);
    after.close();
  });

  it('after an in-place upgrade, a happening that shared its old id with one the old version accepted is taken for it, as before', async () => {
    // The limit of the upgrade path: the old outbox knows only the old id, which both happenings
    // had. The old version dropped the second one the same way; this lasts while that outbox
    // remembers the old id (dedupe TTL), and only for happenings stamped in the same instant.
    const events = await derive(cases[1]?.[1] ?? []);
    const dir = tempDir();
    const before = openOutbox(join(dir, 'outbox.jsonl'), { ttlMs: DAY_MS });
    const [, first, second] = events as [FkEvent, FkEvent, FkEvent];
    acceptorOn(before, join(dir, 'seen'), 'd1').accept({ ...first, id: legacyEventId(first.id) });
    const upgraded = acceptorOn(openOutbox(join(dir, 'outbox.jsonl'), { ttlMs: DAY_MS }), join(dir, 'seen'), 'd1');
    upgraded.accept(second);
    expect(upgraded.stats.deduplicated).toBe(1);
  });

  it('daemons of both versions sharing a dedupe directory deliver an event once', async () => {
    const events = await derive(cases[1]?.[1] ?? []);
    const claimsDir = join(tempDir(), 'seen');
    const oldDaemon = openOutbox(join(tempDir(), 'outbox.jsonl'), { ttlMs: DAY_MS });
    const newDaemon = openOutbox(join(tempDir(), 'outbox.jsonl'), { ttlMs: DAY_MS });
    const oldAcceptor = acceptorOn(oldDaemon, claimsDir, 'old');
    const newAcceptor = acceptorOn(newDaemon, claimsDir, 'new');
    // The old version knows only the legacy id, and (as before) the two interruptions are one to it.
    for (const e of events) oldAcceptor.accept({ ...e, id: legacyEventId(e.id) });
    for (const e of events) newAcceptor.accept(e);
    expect(oldDaemon.depth('webhook')).toBe(2);
    expect(newDaemon.depth('webhook')).toBe(0);
    // Upgraded too: the happenings the old daemon took stay its own; none is delivered twice.
    const third = acceptorOn(openOutbox(join(tempDir(), 'outbox.jsonl'), { ttlMs: DAY_MS }), claimsDir, 'new2');
    for (const e of events) third.accept(e);
    expect(third.stats.deduplicated).toBe(events.length);
    oldDaemon.close();
    newDaemon.close();
  });

  it.todo(
    'a timer transition of a pomodoro voided and started again, planned for the same microsecond as a ' +
      'transition of the voided run that was sent and retracted, has its own id (needs the start record in the model)',
  );
});
