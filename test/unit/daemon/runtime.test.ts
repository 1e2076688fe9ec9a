import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../../src/app/config';
import { createClient } from '../../../src/core/client';
import { manualClock, type Micros } from '../../../src/core/clock';
import type { FkEvent } from '../../../src/core/notify/notifications';
import { parseInstant } from '../../../src/core/engine/time';
import { DEFAULTS, type DaemonConfig } from '../../../src/daemon/options';
import { createDaemon, type Daemon } from '../../../src/daemon/runtime';
import { MAX_SLEEP_MS } from '../../../src/daemon/wakeups';
import { createMemoryHub, createMemoryTransport } from '../../../src/transports/memory';
import { captureLogger } from '../../support/daemonSandbox';
import { manualTimers, settle } from '../../support/manualTimers';
import { memorySessions } from '../../support/memorySessions';

const USER = 'alice@example.org';
const T0 = parseInstant('2026-06-10T10:00:00Z') as Micros;
const S = 1_000_000;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A daemon on an in-memory broker with a stdout target on a stream; manual clock and timers. */
async function setup(shutdownTimeoutMs = 5000) {
  const dir = mkdtempSync(join(tmpdir(), 'fk-runtime-'));
  dirs.push(dir);
  const hub = createMemoryHub();
  const clock = manualClock(T0);
  const timers = manualTimers();
  const sessions = memorySessions(hub);
  const out = new PassThrough();
  const lines: FkEvent[] = [];
  out.on('data', (b: Buffer) =>
    b
      .toString()
      .split('\n')
      .filter(Boolean)
      .forEach((l) => lines.push(JSON.parse(l) as FkEvent)),
  );
  const user = loadConfig({ backend: 'amqp://127.0.0.1/', user: USER }, { HOME: dir });
  const config: DaemonConfig = {
    name: 'unit',
    stateDir: join(dir, 'state'),
    dedupeDir: join(dir, 'seen'),
    dedupeTtlMs: 60_000,
    late: 'drop',
    http: null,
    shutdownTimeoutMs,
    logLevel: 'info',
    users: [user],
    targets: [{ type: 'stdout', name: 'stdout', events: ['*'], retry: DEFAULTS.delivery.retry, dedupeKey: null }],
  };
  const logger = captureLogger();
  const writer = createClient({ transport: createMemoryTransport(hub), user: USER, clock, sequencing: 'race' });
  await writer.start();
  await writer.execute('CreateUser', [USER, 'Alice'], { user: 'admin@local.host' });
  await writer.execute('CreateBacklog', ['b1', 'Today']);
  await writer.execute('CreateWorkitem', ['w1', 'b1', 'Write the report']);
  await writer.execute('AddPomodoro', ['w1', '1']);
  const d: Daemon = createDaemon({ config, logger, clock, timers, openSession: sessions.open, stdout: out });
  return { d, clock, timers, sessions, lines, logs: logger.lines, writer };
}

const kinds = (lines: FkEvent[]): string[] => lines.map((e) => e.type);

describe('daemon runtime', () => {
  it('sleeps until the next planned transition (re-checking the wall clock each minute) and forwards it', async () => {
    const { d, clock, timers, lines, writer } = await setup();
    await d.start();
    expect(d.ready()).toBe(true);
    await writer.execute('StartTimer', ['w1', '90', '30']);
    await settle();
    expect(timers.pending()).toContain(MAX_SLEEP_MS);
    clock.set(T0 + 60 * S);
    await timers.advance(MAX_SLEEP_MS);
    expect(kinds(lines)).toEqual(['daemon.online', 'work.started']);
    expect(timers.pending()).toContain(30_000);
    clock.set(T0 + 90 * S);
    await timers.advance(30_000);
    expect(kinds(lines)).toEqual(['daemon.online', 'work.started', 'work.finished']);
    expect(d.nextWakeAt()).toBe(T0 + 120 * S);
    const stopped = d.stop();
    await timers.advance(5000);
    await stopped;
    expect(kinds(lines).at(-1)).toBe('daemon.offline');
    await writer.close();
  });

  it('stops within shutdownTimeoutMs although a session never finishes closing, and says which', async () => {
    const { d, timers, sessions, logs, writer } = await setup(3000);
    await d.start();
    sessions.failures.hangOnClose = true;
    let done = false;
    const stopped = d.stop().then(() => (done = true));
    await timers.advance(2999);
    expect(done).toBe(false);
    await timers.advance(1);
    await stopped;
    expect(done).toBe(true);
    expect(logs.find((l) => l.msg === 'close timed out; stopping anyway')?.fields).toMatchObject({
      hanging: [expect.stringMatching(/^session alice@example.org/)],
    });
    expect(d.readiness()).toMatchObject({ ready: false });
    await writer.close();
  });

  it('reports readiness per session: not ready while the backend cannot be reached', async () => {
    const { d, timers, sessions, writer } = await setup();
    sessions.failures.opens = 1;
    const started = d.start();
    await settle();
    expect(d.readiness()).toEqual({
      ready: false,
      sessions: [expect.objectContaining({ user: USER, state: 'connecting' })],
    });
    await timers.advance(1200);
    await started;
    expect(d.readiness()).toEqual({
      ready: true,
      sessions: [expect.objectContaining({ state: 'online', reason: null })],
    });
    expect(d.metrics()).toContain('fk_daemon_sessions_online 1');
    const stopped = d.stop();
    await timers.advance(5000);
    await stopped;
    await writer.close();
  });
});
