import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client, type Sequencing } from '../../src/core/client';
import { manualClock } from '../../src/core/clock';
import { createSodiumCipher, formatSodiumHeader, type Cipher } from '../../src/core/crypto';
import { canonicalJson, canonicalState } from '../../src/core/engine/canonical';
import { parseInstant } from '../../src/core/engine/time';
import type { Transport } from '../../src/core/transport';
import { createAmqpTransport } from '../../src/transports/amqp';
import { createFileTransport } from '../../src/transports/file';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint } from '../support/brokers';

/**
 * Issue 11 item 2 (the engine part): what a long-running client derives from the clock must
 * never make a later-arriving, earlier-stamped record inapplicable. The client looks at the timer
 * "now" (the rest is over by its clock) through a view; then a record stamped during the rest
 * arrives (another client voids the pomodoro). Every reader must apply it, this one included.
 * Before: `stateNow()` rang the rest's end into the live model, so this client rejected the void
 * ("No running pomodoro") that everyone else accepted: a broken file history, a diverged broker one.
 */
jest.setTimeout(60_000);

const USER = 'alice@example.org';
const ADMIN = 'admin@local.host';
const T0 = parseInstant('2026-06-10T09:00:00Z') as number;
const MIN = 60_000_000;

async function waitFor(pred: () => boolean, what: string): Promise<void> {
  for (const until = Date.now() + 30_000; !pred();) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function scenario(makeTransport: () => Transport, sequencing: Sequencing, cipher?: Cipher): Promise<void> {
  const clocks = { writer: manualClock(T0), daemon: manualClock(T0) };
  const mk = (clock: typeof clocks.writer): Client =>
    createClient({ transport: makeTransport(), user: USER, clock, sequencing, ...(cipher ? { cipher } : {}) });
  const writer = mk(clocks.writer);
  const daemon = mk(clocks.daemon);
  try {
    await writer.start();
    await daemon.start();
    await writer.execute('CreateUser', [USER, 'Alice'], { user: ADMIN });
    await writer.execute('CreateBacklog', ['b1', 'Today']);
    await writer.execute('CreateWorkitem', ['w1', 'b1', 'Write the report']);
    await writer.execute('AddPomodoro', ['w1', '1']);
    await writer.execute('StartTimer', ['w1', '1500', '300']); // work until +25 min, rest until +30 min
    await waitFor(() => daemon.state.lastSeq === 5, 'the daemon to follow');

    // The daemon's clock passes the end of the rest: its view says the pomodoro is finished...
    clocks.daemon.set(T0 + 31 * MIN);
    const seen = daemon.view().tenant.users.get(USER)?.workitems.get('w1')?.pomodoros[0]?.state;
    expect(seen).toBe('finished');
    // ...and the live model is untouched: it changes by records only.
    expect(daemon.state.tenant.users.get(USER)?.workitems.get('w1')?.pomodoros[0]?.state).toBe('work');

    // Meanwhile (stamped during the rest) another client voids the pomodoro; it arrives late.
    clocks.writer.set(T0 + 27 * MIN);
    await writer.execute('VoidPomodoro', ['w1']);
    await waitFor(
      () => daemon.state.lastSeq === 6 || daemon.historyError !== null || daemon.state.counts.rejected > 0,
      'the void to arrive',
    );
    expect(daemon.historyError).toBeNull();
    expect(daemon.state.counts.rejected).toBe(0);
    expect(daemon.state.tenant.users.get(USER)?.workitems.get('w1')?.pomodoros[0]?.state).toBe('new');
    const canon = (c: Client): string => canonicalJson(canonicalState(c.view(T0 + 31 * MIN), 'strict', T0 + 31 * MIN));
    expect(canon(daemon)).toBe(canon(writer));
  } finally {
    await Promise.all([writer.close(), daemon.close()]);
  }
}

describe('views at now never make a late, earlier-stamped record inapplicable', () => {
  it('on a history file (strict): the daemon applies the void instead of calling the history broken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fk-views-'));
    try {
      const path = join(dir, 'flowkeeper-data.txt');
      await scenario(() => createFileTransport({ path, pollMs: 20 }), 'strict');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a client that runs for weeks applies each record at the instant it arrives, not the one it was created at (issue 10)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fk-views-'));
    const path = join(dir, 'flowkeeper-data.txt');
    const clock = manualClock(T0);
    const daemon = createClient({
      transport: createFileTransport({ path, pollMs: 20 }),
      user: USER,
      clock,
      sequencing: 'strict',
    });
    const writer = createClient({
      transport: createFileTransport({ path, pollMs: 20 }),
      user: USER,
      clock,
      sequencing: 'strict',
    });
    try {
      await daemon.start();
      clock.set(T0 + 21 * 24 * 60 * MIN); // three weeks later
      await writer.start();
      await writer.execute('CreateUser', [USER, 'Alice'], { user: ADMIN });
      await waitFor(() => daemon.state.lastSeq === 1, 'the daemon to follow');
      // Flowkeeper stamps a new user's timer date with "now": the daemon's now is the arrival.
      expect(daemon.state.tenant.users.get(USER)?.timer.lastDate).toBe(
        writer.state.tenant.users.get(USER)?.timer.lastDate,
      );
      expect(daemon.state.tenant.users.get(USER)?.timer.lastDate).not.toBe(
        daemon.state.tenant.users.get(ADMIN)?.timer.lastDate,
      );
    } finally {
      await Promise.all([daemon.close(), writer.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const amqp = amqpEndpoint();
  (amqp ? it : it.skip)('on RabbitMQ (race): the daemon applies the void every other reader applies', async () => {
    const url = (amqp as { url: string }).url;
    const history = `views-${randomUUID()}`;
    const logId = randomUUID();
    const cipher = await createSodiumCipher({ key: new Uint8Array(randomBytes(32)), logId });
    const t = createAmqpTransport({ url, history });
    try {
      await t.connect();
      await t.publish(formatSodiumHeader({ logId, salt: new Uint8Array(randomBytes(16)) }), {
        id: randomUUID(),
        seq: 0,
      });
      await t.close();
      await scenario(() => createAmqpTransport({ url, history, caughtUpGraceMs: 100 }), 'race', cipher);
    } finally {
      await deleteHistories(url, [history]);
    }
  });
});
