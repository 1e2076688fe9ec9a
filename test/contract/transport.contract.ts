import type { Transport, TransportEntry, TransportStatus } from '../../src/core/transport';
import { TransportError } from '../../src/core/errors';

/** Collects entries from a subscription and lets a test wait for a count. */
export function collector(): {
  entries: TransportEntry[];
  caughtUp: number;
  onEntry: (e: TransportEntry) => void;
  onCaughtUp: () => void;
  waitFor: (n: number, timeoutMs?: number) => Promise<TransportEntry[]>;
  waitCaughtUp: (timeoutMs?: number) => Promise<void>;
} {
  const entries: TransportEntry[] = [];
  let waiters: Array<() => void> = [];
  const notify = (): void => {
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  };
  const c = {
    entries,
    caughtUp: 0,
    onEntry: (e: TransportEntry) => {
      entries.push(e);
      notify();
    },
    onCaughtUp: () => {
      c.caughtUp++;
      notify();
    },
    waitUntil: (pred: () => boolean, what: string, timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
        const check = (): void => {
          if (pred()) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
    waitFor: async (n: number, timeoutMs = 10_000) => {
      await c.waitUntil(() => entries.length >= n, `${n} entries (have ${entries.length})`, timeoutMs);
      return entries;
    },
    waitCaughtUp: async (timeoutMs = 10_000) => c.waitUntil(() => c.caughtUp > 0, 'caught up', timeoutMs),
  };
  return c;
}

/**
 * The behaviour every backend promises (STYLE §9): the unit tier runs it on the memory and file
 * transports, the integration tier on AMQP and XMPP. `makePair` returns two transports on the SAME
 * fresh log (two clients of one user); each call must give a new, empty log.
 */
export function describeTransportContract(
  name: string,
  makePair: () => Promise<[Transport, Transport]>,
  opts: { timeoutMs?: number } = {},
): void {
  const timeout = opts.timeoutMs ?? 10_000;
  describe(`transport contract: ${name}`, () => {
    let a: Transport;
    let b: Transport;
    beforeEach(async () => {
      [a, b] = await makePair();
      await a.connect();
      await b.connect();
    });
    afterEach(async () => {
      await a.close();
      await b.close();
    });

    it('reports caught up on an empty log', async () => {
      const c = collector();
      const unsub = await a.subscribe(null, c);
      await c.waitCaughtUp(timeout);
      expect(c.entries).toEqual([]);
      await unsub();
    });

    it('delivers published lines to another client in publish order, with ids', async () => {
      const c = collector();
      await b.subscribe(null, c);
      await c.waitCaughtUp(timeout);
      for (let i = 1; i <= 20; i++) await a.publish(`line ${i} é ✓`, { id: `id-${i}`, seq: i });
      const got = await c.waitFor(20, timeout);
      expect(got.map((e) => e.line)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 1} é ✓`));
      const ids = got.map((e) => e.id).filter((x) => x !== undefined);
      if (ids.length > 0) expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => `id-${i + 1}`));
    });

    it('replays history to a late subscriber, then the live tail, then caught up once', async () => {
      for (let i = 1; i <= 5; i++) await a.publish(`old ${i}`, { id: `o${i}`, seq: i });
      const c = collector();
      await b.subscribe(null, c);
      await c.waitCaughtUp(timeout);
      expect(c.entries.map((e) => e.line)).toEqual(['old 1', 'old 2', 'old 3', 'old 4', 'old 5']);
      await a.publish('new 6', { id: 'n6', seq: 6 });
      await c.waitFor(6, timeout);
      expect(c.entries[5]?.line).toBe('new 6');
    });

    it('resumes strictly after a given position', async () => {
      for (let i = 1; i <= 6; i++) await a.publish(`r ${i}`, { id: `r${i}`, seq: i });
      const all = collector();
      const u1 = await b.subscribe(null, all);
      await all.waitFor(6, timeout);
      await u1();
      const third = all.entries[2] as TransportEntry;
      const rest = collector();
      const u2 = await b.subscribe(third.position, rest);
      await rest.waitCaughtUp(timeout);
      expect(rest.entries.map((e) => e.line)).toEqual(['r 4', 'r 5', 'r 6']);
      await u2();
    });

    it('keeps the same total order for concurrent writers, seen identically by both', async () => {
      const ca = collector();
      const cb = collector();
      await a.subscribe(null, ca);
      await b.subscribe(null, cb);
      await Promise.all([ca.waitCaughtUp(timeout), cb.waitCaughtUp(timeout)]);
      const pa = Array.from({ length: 25 }, (_, i) => a.publish(`A${i}`, { id: `A${i}`, seq: i + 1 }));
      const pb = Array.from({ length: 25 }, (_, i) => b.publish(`B${i}`, { id: `B${i}`, seq: i + 1 }));
      await Promise.all([...pa, ...pb]);
      await Promise.all([ca.waitFor(50, timeout), cb.waitFor(50, timeout)]);
      expect(ca.entries.map((e) => e.line)).toEqual(cb.entries.map((e) => e.line));
      const fromA = ca.entries.map((e) => e.line).filter((l) => l.startsWith('A'));
      expect(fromA).toEqual(Array.from({ length: 25 }, (_, i) => `A${i}`));
    });

    it('stops delivering after unsubscribe', async () => {
      const c = collector();
      const unsub = await b.subscribe(null, c);
      await c.waitCaughtUp(timeout);
      await a.publish('before', { id: 'x1', seq: 1 });
      await c.waitFor(1, timeout);
      await unsub();
      await a.publish('after', { id: 'x2', seq: 2 });
      const check = collector();
      const u = await b.subscribe(null, check);
      await check.waitFor(2, timeout);
      await u();
      expect(c.entries.map((e) => e.line)).toEqual(['before']);
    });

    it('rejects publish after close with FK_TRANSPORT_CLOSED and reports closed', async () => {
      const seen: TransportStatus['kind'][] = [];
      a.onStatus((s) => seen.push(s.kind));
      await a.close();
      await a.close();
      await expect(a.publish('x', { id: 'z', seq: 1 })).rejects.toMatchObject({ code: 'FK_TRANSPORT_CLOSED' });
      await expect(a.publish('x', { id: 'z', seq: 1 })).rejects.toBeInstanceOf(TransportError);
      expect(seen).toContain('closed');
    });
  });
}
