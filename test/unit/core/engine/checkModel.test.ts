import { generateHistory } from '../../../support/generate';
import { canonicalJson, canonicalState } from '../../../../src/core/engine/canonical';
import { createClient, type Client } from '../../../../src/core/client';
import { manualClock } from '../../../../src/core/clock';
import { FkError } from '../../../../src/core/errors';
import { cloneTenant } from '../../../../src/core/engine/cloneTenant';
import type { StrategyRecord } from '../../../../src/core/engine/records';
import { executeRecord, replay } from '../../../../src/core/engine/replay';
import { parseLine } from '../../../../src/core/engine/serializer';
import { parseInstant } from '../../../../src/core/engine/time';
import { createMemoryHub, createMemoryTransport } from '../../../../src/transports/memory';

const USER = 'user@local.host';
const T0 = parseInstant('2026-01-01T00:00:00Z') as number;
/** Each check clones the whole model, so the cost grows with the square of this: 1,500 is plenty. */
const ACTIONS = 1500;

/** What the client used to do for every action: run it on a fresh deep copy of the live model. */
function verdictOnFreshCopy(c: Client, record: StrategyRecord): string {
  const scratch = { ...c.state, tenant: cloneTenant(c.state.tenant), skipped: [] };
  try {
    executeRecord(scratch, record, { now: record.when });
    return 'ok';
  } catch (err) {
    return err instanceof FkError ? err.code : String(err);
  }
}

describe('checks against the kept copy (checkModel) agree with checks on a fresh copy', () => {
  it('over a generated history from two writers, with old actions re-played, timer seals and rejections mixed in', async () => {
    const records = generateHistory(ACTIONS, 7, USER).map((l, i) => {
      const p = parseLine(l, i + 1);
      if (p.kind !== 'record') throw new Error('generated a non-record');
      return p.record;
    });
    const hub = createMemoryHub();
    const clock = manualClock(T0);
    const writers = [0, 1].map(() =>
      createClient({ transport: createMemoryTransport(hub), user: USER, clock, sequencing: 'race' }),
    );
    await Promise.all(writers.map((w) => w.start()));
    let seed = 11;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const verdicts = { ok: 0, rejected: 0 };
    let now = T0;
    for (const [i, generated] of records.entries()) {
      // Now and then an earlier action once more (often invalid by now), or a look at the timer.
      const candidates = [generated];
      if (rnd() < 0.15) candidates.unshift(records[Math.floor(rnd() * (i + 1))] as StrategyRecord);
      for (const r of candidates) {
        // Mostly one writer, so its copy often has to follow the other's records.
        const writer = writers[rnd() < 0.75 ? 0 : 1] as Client;
        if (rnd() < 0.05) writer.view(); // a look at the timer never changes what is checked
        now = Math.max(now, r.when) + 1000;
        clock.set(now);
        const expected = verdictOnFreshCopy(writer, { ...r, seq: writer.state.lastSeq + 1, when: now });
        const actual = await writer.execute(r.name, r.params, { user: r.user }).then(
          () => 'ok',
          (err: unknown) => (err instanceof FkError ? err.code : String(err)),
        );
        expect(`${i} ${r.name}: ${actual}`).toBe(`${i} ${r.name}: ${expected}`);
        verdicts[actual === 'ok' ? 'ok' : 'rejected']++;
        await new Promise((resolve) => setImmediate(resolve)); // the other writer catches up
      }
    }
    expect(verdicts.rejected).toBeGreaterThan(50);
    expect(verdicts.ok).toBeGreaterThan(1250); // 1,531 ok and 200 rejected with these seeds
    // The log they wrote replays, as a fresh reader sees it, to the state both writers hold.
    const reader = createClient({
      transport: createMemoryTransport(hub),
      user: USER,
      clock: manualClock(T0),
      sequencing: 'strict',
    });
    await reader.start();
    expect(reader.historyError).toBeNull();
    const fresh = replay(
      hub.entries.map((e) => e.line),
      { now: T0, sealAtEnd: false },
    );
    expect(fresh.lastSeq).toBe(reader.state.lastSeq);
    const canon = (s: Parameters<typeof canonicalState>[0]): string => canonicalJson(canonicalState(s, 'strict', T0));
    expect(canon(reader.state)).toBe(canon(fresh));
    await Promise.all([...writers, reader].map((c) => c.close()));
  }, 120_000); // 1,500 actions: seconds on a busy machine

  it('stays correct when a race is lost while a checked action is in flight', async () => {
    const hub = createMemoryHub();
    const clock = manualClock(T0);
    const a = createClient({ transport: createMemoryTransport(hub), user: USER, clock, sequencing: 'race' });
    const b = createClient({ transport: createMemoryTransport(hub), user: USER, clock, sequencing: 'race' });
    await Promise.all([a.start(), b.start()]);
    await a.execute('CreateUser', [USER, 'U'], { user: 'admin@local.host' });
    await a.execute('CreateBacklog', ['b1', 'B']);
    await a.execute('CreateWorkitem', ['w1', 'b1', 'W']);
    await a.execute('AddPomodoro', ['w1', '1', 'normal']);
    await new Promise((r) => setImmediate(r));
    // Both start the one pomodoro: one wins; the other re-checks and fails with the rule.
    const results = await Promise.allSettled([
      a.execute('StartTimer', ['w1', '1500', '300']),
      b.execute('StartTimer', ['w1', '1500', '300']),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'FK_ILLEGAL_STATE' } });
    // Both copies are still right: a valid action passes, an invalid one fails, on both clients.
    await a.execute('AddPomodoro', ['w1', '1', 'normal']);
    await new Promise((r) => setImmediate(r));
    await b.execute('CompleteWorkitem', ['w1', 'finished']);
    await new Promise((r) => setImmediate(r));
    await expect(a.execute('StartTimer', ['w1', '1500', '300'])).rejects.toMatchObject({ code: 'FK_ILLEGAL_STATE' });
    await expect(b.execute('RenameWorkitem', ['w1', 'sealed now'])).rejects.toMatchObject({ code: 'FK_ILLEGAL_STATE' });
    expect(canonicalJson(canonicalState(a.state, 'strict', T0))).toBe(
      canonicalJson(canonicalState(b.state, 'strict', T0)),
    );
    await Promise.all([a.close(), b.close()]);
  });
});
