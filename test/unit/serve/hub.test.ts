import { silentLogger } from '../../../src/core/logger';
import { formatSeedLine } from '../../../src/core/engine/seed';
import { openHub, type HubMember } from '../../../src/serve/hub';
import { createMemoryHub, createMemoryTransport } from '../../../src/transports/memory';
import { flush } from '../../support/serveMemory';
import { rawLine } from '../../support/rawProtocol';

const A = 'alice@example.org';

function member(id: number): HubMember & { got: string[]; lostSeqs: number[] } {
  const m = {
    id,
    sent: 0,
    own: 0,
    replaying: false,
    got: [] as string[],
    lostSeqs: [] as number[],
    deliver(line: string, position: number) {
      m.got.push(line);
      m.sent = position;
    },
    lost: (seq: number) => void m.lostSeqs.push(seq),
    accountDeleted: () => undefined,
    kick: () => undefined,
  };
  return m;
}

async function seeded() {
  const log = createMemoryHub();
  const hub = await openHub({ account: A, transport: createMemoryTransport(log), logger: silentLogger });
  expect(await hub.seed(formatSeedLine(A, 'alice', 1_780_000_000_000_000))).toBe(true);
  expect(await hub.seed(formatSeedLine(A, 'alice', 1_780_000_000_000_000))).toBe(false);
  return { log, hub };
}

describe('hub: one account history', () => {
  it('appends plaintext lines in sequence and fans them out to the other members only', async () => {
    const { log, hub } = await seeded();
    const a = member(1);
    const b = member(2);
    a.sent = b.sent = 1;
    hub.join(a);
    hub.join(b);
    const l2 = rawLine(2, A, 'CreateBacklog', ['b1', 'Today']);
    expect(await hub.submit(a, l2)).toEqual({ ok: true, position: 2 });
    await flush();
    expect(b.got).toEqual([l2]);
    expect(a.got).toEqual([]);
    expect(log.entries.map((e) => e.line)).toHaveLength(2);
    expect(await hub.submit(b, rawLine(2, A, 'CreateBacklog', ['b2', 'Late']))).toEqual({
      ok: false,
      code: 409,
      message: 'Sequence conflict: received 2, expected 3',
    });
    expect(hub.count).toBe(2);
    await hub.close();
  });

  it('refuses a line from a member that was not sent every stored line (also an encrypted one), even while the last is in flight', async () => {
    const { hub } = await seeded();
    const a = member(1);
    const b = member(2);
    a.sent = b.sent = 1;
    hub.join(a);
    hub.join(b);
    // Both write "seq 2" at once: a's is queued first, b had not received it.
    const first = hub.submit(a, '+AAAA');
    const second = hub.submit(b, '+BBBB');
    expect(await first).toMatchObject({ ok: true });
    expect(await second).toMatchObject({ ok: false, code: 409 });
    await flush();
    // Once b was sent a's line, it may write.
    expect(b.got).toEqual(['+AAAA']);
    expect(await hub.submit(b, '+CCCC')).toMatchObject({ ok: true, position: 3 });
    await hub.close();
  });

  it("members still replaying get nothing live (the replay sends it); another writer's line reaches everyone", async () => {
    const { log, hub } = await seeded();
    const a = member(1);
    a.sent = 1;
    const r = member(2);
    r.replaying = true;
    hub.join(a);
    hub.join(r);
    const other = createMemoryTransport(log);
    await other.connect();
    const outside = rawLine(2, A, 'CreateBacklog', ['b1', 'From fk']);
    await other.publish(outside, { id: 'x', seq: 2 });
    await flush();
    expect(a.got).toEqual([outside]);
    expect(r.got).toEqual([]);
    expect(hub.slice(0, 10)).toHaveLength(2);
    await hub.close();
  });

  it('tells the writer when another writer took its seq first in the backend order', async () => {
    const { log, hub } = await seeded();
    const a = member(1);
    const b = member(2);
    a.sent = b.sent = 1;
    hub.join(a);
    hub.join(b);
    // Another writer's seq 2 lands between our check and our own line.
    const other = createMemoryTransport(log);
    await other.connect();
    const submitted = hub.submit(a, rawLine(2, A, 'CreateBacklog', ['b1', 'Ours']));
    await other.publish(rawLine(2, A, 'CreateBacklog', ['b9', 'Theirs']), { id: 'y', seq: 2 });
    expect(await submitted).toMatchObject({ ok: true });
    await flush();
    expect(a.lostSeqs).toEqual([2]);
    expect(b.got.map((l) => l.includes('Theirs'))).toEqual([true]); // ours is not fanned out: readers ignore it
    await hub.close();
  });
});
