import { tmpdir } from 'node:os';
import { loadConfig } from '../../../src/app/config';
import { createClient, type Client } from '../../../src/core/client';
import { manualClock, type Micros } from '../../../src/core/clock';
import { silentLogger } from '../../../src/core/logger';
import type { FkEvent } from '../../../src/core/notify/notifications';
import type { StrategyName } from '../../../src/core/engine/records';
import { formatInstant, parseInstant } from '../../../src/core/engine/time';
import type { Checkpoint } from '../../../src/daemon/eventRouter';
import type { LatePolicy } from '../../../src/daemon/options';
import { createSessionWatcher, type SessionWatcher } from '../../../src/daemon/sessionWatcher';
import { createMemoryHub, createMemoryTransport } from '../../../src/transports/memory';
import { manualTimers, settle } from '../../support/manualTimers';
import { memorySessions } from '../../support/memorySessions';

const USER = 'alice@example.org';
const T0 = parseInstant('2026-06-10T10:00:00Z') as Micros;
const S = 1_000_000;
const at = (s: number): string => formatInstant(T0 + s * S);

/**
 * One user's history on an in-memory broker, a writer (the desktop app) with its own clock, and
 * a session watcher on a manual clock and manual timers: nothing sleeps.
 */
function world() {
  const hub = createMemoryHub();
  const clock = manualClock(T0);
  const writerClock = manualClock(T0);
  const timers = manualTimers();
  const events: FkEvent[] = [];
  const config = loadConfig({ backend: 'amqp://127.0.0.1/', user: USER }, { HOME: tmpdir() });
  const sessions = memorySessions(hub);
  const failures = sessions.failures;
  const open = sessions.open;
  const writer: Client = createClient({
    transport: createMemoryTransport(hub),
    user: USER,
    clock: writerClock,
    sequencing: 'race',
  });
  const w = {
    hub,
    clock,
    writerClock,
    timers,
    events,
    failures,
    get opened() {
      return sessions.opened;
    },
    /** The writer records an action stamped at its own clock (default: the daemon's now). */
    async act(name: StrategyName, params: string[], stampedAt?: number): Promise<void> {
      writerClock.set(stampedAt === undefined ? clock.now() : T0 + stampedAt * S);
      await writer.execute(name, params, name === 'CreateUser' ? { user: 'admin@local.host' } : {});
      await settle();
    },
    async plan(): Promise<void> {
      await writer.start();
      await w.act('CreateUser', [USER, 'Alice']);
      await w.act('CreateBacklog', ['b1', 'Today']);
      await w.act('CreateWorkitem', ['w1', 'b1', 'Write the report']);
      await w.act('AddPomodoro', ['w1', '2']);
    },
    watcher(opts: { checkpoint?: Checkpoint | null; late?: LatePolicy } = {}): SessionWatcher {
      return createSessionWatcher({
        config,
        open,
        clock,
        timers,
        logger: silentLogger,
        daemonId: 'd1',
        late: opts.late ?? 'drop',
        checkpoint: opts.checkpoint ?? null,
        emit: (e) => events.push(e),
        reschedule: () => undefined,
      });
    },
    /** Moves the daemon's clock to T0 + s and lets the watcher wake up. */
    tickAt(x: SessionWatcher, s: number): void {
      clock.set(T0 + s * S);
      x.tick();
    },
    types: () => events.map((e) => e.type).filter((t) => !t.startsWith('daemon.')),
    close: () => writer.close(),
  };
  return w;
}

describe('session watcher', () => {
  it('on its first run sends nothing from the existing history, then rings transitions at their planned instants only', async () => {
    const w = world();
    await w.plan();
    await w.act('StartTimer', ['w1', '60', '30']);
    w.clock.set(T0 + 10 * S);
    const x = w.watcher();
    await x.start();
    expect(w.events.map((e) => e.type)).toEqual(['daemon.online']);
    expect(x.nextWakeAt()).toBe(T0 + 60 * S);
    w.tickAt(x, 59.999999);
    expect(w.types()).toEqual([]);
    expect(x.status().timer).toMatchObject({ state: 'work', until: at(60) });
    w.tickAt(x, 60);
    expect(w.types()).toEqual(['work.finished']);
    expect(x.status().timer).toMatchObject({ state: 'rest', since: at(60), until: at(90) });
    expect(x.nextWakeAt()).toBe(T0 + 90 * S);
    w.tickAt(x, 90);
    expect(w.events.filter((e) => !e.type.startsWith('daemon.')).map((e) => [e.type, e.at])).toEqual([
      ['work.finished', at(60)],
      ['rest.finished', at(90)],
    ]);
    expect(x.nextWakeAt()).toBeNull();
    expect(x.watermark()).toEqual({ at: T0 + 90 * S, seq: 5 });
    await x.close();
    await w.close();
  });

  it('never changes the model by its clock: a void stamped before a transition it rang still applies, and retracts it', async () => {
    const w = world();
    await w.plan();
    const x = w.watcher();
    await x.start();
    await w.act('StartTimer', ['w1', '60', '30']);
    w.tickAt(x, 60);
    w.tickAt(x, 90); // rest.finished sent; the void (stamped at +70) had not reached the daemon
    await w.act('VoidPomodoro', ['w1'], 70);
    const restFinished = w.events.find((e) => e.type === 'rest.finished') as FkEvent;
    expect(w.types()).toEqual(['work.started', 'work.finished', 'rest.finished', 'pomodoro.voided']);
    expect(w.events.at(-1)).toMatchObject({
      type: 'pomodoro.voided',
      at: at(70),
      phase: 'rest',
      retracts: [restFinished.id],
    });
    expect(x.status()).toMatchObject({ lastSeq: 6, historyError: null, timer: { state: 'idle' } });
    // The pomodoro is new again: it runs once more, with new ids.
    await w.act('StartTimer', ['w1', '60', '30']);
    expect(w.types().at(-1)).toBe('work.started');
    expect(x.followed).toBe(true);
    await x.close();
    await w.close();
  });

  it('holds a transition a record rang early (Flowkeeper seals 1 s ahead) until its instant', async () => {
    const w = world();
    await w.plan();
    const x = w.watcher();
    await x.start();
    await w.act('StartTimer', ['w1', '60', '30']);
    w.clock.set(T0 + 59.5 * S);
    await w.act('AddInterruption', ['w1', 'phone', '']);
    expect(w.types()).toEqual(['work.started', 'interruption.added']);
    expect(x.nextWakeAt()).toBe(T0 + 60 * S);
    w.tickAt(x, 60);
    expect(w.types()).toEqual(['work.started', 'interruption.added', 'work.finished']);
    await x.close();
    await w.close();
  });

  it('after a restart: what the last run handled is skipped, a record it never saw is news even if stamped earlier', async () => {
    const w = world();
    await w.plan();
    await w.act('StartTimer', ['w1', '60', '30']);
    // The previous run handled everything up to +65 s and the StartTimer (seq 5): it sent
    // work.started and work.finished. Then a void stamped at +50 reached the broker late.
    await w.act('VoidPomodoro', ['w1'], 50);
    w.clock.set(T0 + 120 * S);
    const x = w.watcher({ checkpoint: { at: T0 + 65 * S, seq: 5 } });
    await x.start();
    expect(w.events.filter((e) => !e.type.startsWith('daemon.'))).toEqual([
      expect.objectContaining({
        type: 'pomodoro.voided',
        at: at(50),
        phase: 'work',
        late: true,
        retracts: [expect.stringContaining(`work.finished@${at(60)}`)],
      }),
    ]);
    await x.close();
    await w.close();
  });

  it('late: send forwards the transitions that fell due while no daemon ran, marked late', async () => {
    const w = world();
    await w.plan();
    await w.act('StartTimer', ['w1', '60', '30']);
    w.clock.set(T0 + 75 * S);
    const x = w.watcher({ checkpoint: { at: T0 + 10 * S, seq: 5 }, late: 'send' });
    await x.start();
    expect(w.events.filter((e) => !e.type.startsWith('daemon.')).map((e) => [e.type, e.late])).toEqual([
      ['work.finished', true],
    ]);
    w.tickAt(x, 90);
    expect(w.events.at(-1)).toMatchObject({ type: 'rest.finished', at: at(90) });
    expect(w.events.at(-1)?.late).toBeUndefined();
    await x.close();
    await w.close();
  });

  it('retries an unreachable backend with backoff until it answers', async () => {
    const w = world();
    await w.plan();
    w.failures.opens = 2;
    const x = w.watcher();
    const started = x.start();
    await settle();
    expect(w.opened).toBe(1);
    expect(x.status()).toMatchObject({ state: 'connecting', caughtUp: false });
    // 1 s ±20 %, then 2 s ±20 %
    await w.timers.advance(1200);
    expect(w.opened).toBe(2);
    await w.timers.advance(2400);
    await started;
    expect(w.opened).toBe(3);
    expect(x.followed).toBe(true);
    await x.close();
    await w.close();
  });

  it('a history that turns unusable on a broker is a conflict: reported once, not followed', async () => {
    const w = world();
    await w.plan();
    const x = w.watcher();
    await x.start();
    // A record beyond lastSeq + 1 is a gap: an error for every reader, never repaired.
    await createMemoryTransport(w.hub).connect();
    w.hub.entries.push({
      line: '9, 2026-06-10 10:00:00+00:00, alice@example.org: CreateBacklog("b9", "Gap")',
      position: String(w.hub.entries.length),
    });
    for (const l of w.hub.listeners) l(w.hub.entries.at(-1) as never);
    await settle();
    const conflicts = w.events.filter((e) => e.type === 'daemon.conflict');
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]?.detail).toMatchObject({ code: 'FK_SEQUENCE_CONFLICT', seq: 4 });
    expect(x.status()).toMatchObject({ state: 'conflict', historyError: { code: 'FK_SEQUENCE_CONFLICT' } });
    expect(x.followed).toBe(false);
    await x.close();
    await w.close();
  });
});
