import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as amqp from 'amqplib';
import { TransportError } from '../../src/core/errors';
import type { Transport, TransportEntry, TransportStatus } from '../../src/core/transport';
import { createAmqpTransport, type AmqpTransportOptions } from '../../src/transports/amqp';
import { historyTopology } from '../../src/transports/amqp/topology';
import { collector, describeTransportContract } from '../contract/transport.contract';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { closeConnectionsNamed, rabbitmqctl, rabbitmqctlAvailable } from '../support/rabbitmqctl';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy';

jest.setTimeout(30_000);
const HOOK_TIMEOUT = 60_000;

/** Records every status of a transport and waits for a given kind after a given index. */
function statusLog(t: Transport): {
  kinds: TransportStatus['kind'][];
  waitFor: (kind: TransportStatus['kind'], fromIndex?: number, timeoutMs?: number) => Promise<number>;
} {
  const kinds: TransportStatus['kind'][] = [];
  let waiters: Array<() => void> = [];
  t.onStatus((s) => {
    kinds.push(s.kind);
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  });
  const waitFor = (kind: TransportStatus['kind'], fromIndex = 0, timeoutMs = 20_000): Promise<number> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for status '${kind}' (seen: ${kinds.join(', ')})`)),
        timeoutMs,
      );
      const check = (): void => {
        const i = kinds.indexOf(kind, fromIndex);
        if (i >= 0) {
          clearTimeout(timer);
          resolve(i);
        } else waiters.push(check);
      };
      check();
    });
  return { kinds, waitFor };
}

function expectCleanLog(entries: TransportEntry[], lines: string[]): void {
  expect(entries.map((e) => e.line)).toEqual(lines);
  const positions = entries.map((e) => Number(e.position));
  positions.forEach((p, i) => {
    if (i > 0) expect(p).toBeGreaterThan(positions[i - 1] as number);
  });
  expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
}

const range = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

async function publishAll(t: Transport, lines: string[]): Promise<void> {
  await Promise.all(lines.map((line, i) => t.publish(line, { id: `id-${line}`, seq: i + 1 })));
}

describeWith(amqpEndpoint(), 'amqp transport', ({ url }) => {
  const histories: string[] = [];
  const opened: Transport[] = [];
  const ctl = rabbitmqctlAvailable();
  const itCtl = ctl ? it : it.skip;
  const base = new URL(url);
  const vhost = base.pathname.length > 1 ? decodeURIComponent(base.pathname.slice(1)) : '/';

  const freshHistory = (): string => {
    const h = `t-${randomUUID()}`;
    histories.push(h);
    return h;
  };
  const make = (history: string, extra: Partial<AmqpTransportOptions> = {}): Transport => {
    const t = createAmqpTransport({ url, history, retryLow: 100, retryHigh: 1000, caughtUpGraceMs: 100, ...extra });
    opened.push(t);
    return t;
  };
  /**
   * A writer and a reader on one fresh history, both watched, the reader caught up and having
   * received `lines` from the writer. `writer` overrides how the writer is made.
   */
  const connectedPair = async (lines: string[], writer?: (h: string) => Transport) => {
    const h = freshHistory();
    const w = writer ? writer(h) : make(h);
    const r = make(h);
    const ws = statusLog(w);
    const rs = statusLog(r);
    await w.connect();
    await r.connect();
    const c = collector();
    await r.subscribe(null, c);
    await c.waitCaughtUp();
    await publishAll(w, lines);
    await c.waitFor(lines.length);
    return { h, w, r, ws, rs, c };
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
  }, HOOK_TIMEOUT);

  afterAll(() => deleteHistories(url, histories), HOOK_TIMEOUT);

  /** Counts the messages of a history's stream up to `lastOffset`, with a bare amqplib consumer. */
  async function rawCount(history: string, lastOffset: number): Promise<number> {
    const conn = await amqp.connect(url);
    try {
      const ch = await conn.createChannel();
      await ch.prefetch(1000);
      let count = 0;
      await new Promise<void>((resolve) => {
        void ch.consume(
          historyTopology(history).queue,
          (msg) => {
            if (msg === null) return;
            count++;
            ch.ack(msg);
            if (msg.properties.headers?.['x-stream-offset'] === lastOffset) resolve();
          },
          { arguments: { 'x-stream-offset': 'first' } },
        );
      });
      return count;
    } finally {
      await conn.close();
    }
  }

  describeTransportContract('amqp', async () => {
    const h = freshHistory();
    return [make(h), make(h)];
  });

  it('reports caught up exactly when the entries that existed have been delivered', async () => {
    const h = freshHistory();
    const w = make(h);
    await w.connect();
    // Several batches, so the stream holds several chunks.
    for (let b = 0; b < 5; b++) await publishAll(w, range(`b${b}-`, 1, 100));
    const r = make(h);
    await r.connect();
    let deliveredAtCaughtUp = -1;
    const c = collector();
    await r.subscribe(null, {
      onEntry: c.onEntry,
      onCaughtUp: () => {
        deliveredAtCaughtUp = c.entries.length;
        c.onCaughtUp();
      },
    });
    await c.waitCaughtUp();
    expect(deliveredAtCaughtUp).toBe(500);
    const mid = c.entries[249] as TransportEntry;
    const rest = collector();
    await r.subscribe(mid.position, rest);
    await rest.waitCaughtUp();
    expect(rest.entries.length).toBe(250);
    expect(rest.entries[0]?.line).toBe('b2-51');
  });

  itCtl('reconnects after its connections are killed, and resumes without loss or duplicates', async () => {
    const { h, w, ws, rs, c } = await connectedPair(range('k', 1, 5));
    const wMark = ws.kinds.length;
    const rMark = rs.kinds.length;

    expect(closeConnectionsNamed(`fk ${h}`, 'fk test: kill')).toBe(2);

    const wOffline = await ws.waitFor('offline', wMark);
    const rOffline = await rs.waitFor('offline', rMark);
    await ws.waitFor('online', wOffline);
    await rs.waitFor('online', rOffline);
    await c.waitFor(5);
    await publishAll(w, range('k', 6, 10));
    await c.waitFor(10);
    expectCleanLog(c.entries, range('k', 1, 10));
    expect(c.caughtUp).toBe(2); // once at subscribe, once more after the reconnect
  });

  describe('in-flight publishes across a dropped connection', () => {
    let proxy: FaultProxy;
    beforeEach(async () => {
      proxy = await startFaultProxy(base.hostname, Number(base.port || 5672));
    }, HOOK_TIMEOUT);
    afterEach(async () => {
      await proxy.close();
    }, HOOK_TIMEOUT);
    const viaProxy = (): string => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(proxy.port);
      return u.toString();
    };

    it.each([
      ['stored but unconfirmed (confirms lost)', 'down'],
      ['never reached the broker', 'up'],
    ] as const)('resolve once re-published, and readers see each exactly once: %s', async (_what, direction) => {
      const { h, w, r, ws, c } = await connectedPair(range('f', 1, 10), (history) =>
        make(history, { url: viaProxy(), retryLow: 50, retryHigh: 200 }),
      );

      proxy.hold(direction);
      const settled: string[] = [];
      const inFlight = range('f', 11, 30).map((line, i) =>
        w.publish(line, { id: `id-${line}`, seq: 11 + i }).then(() => settled.push(line)),
      );
      if (direction === 'down') await c.waitFor(30); // stored: the reader sees them already
      expect(settled).toEqual([]);
      const mark = ws.kinds.length;
      proxy.dropAll();
      await ws.waitFor('offline', mark);
      await Promise.all(inFlight);
      await ws.waitFor('online', mark);
      expect(settled.sort()).toEqual(range('f', 11, 30).sort());

      await publishAll(w, ['f31']);
      await c.waitFor(31);
      expectCleanLog(c.entries, range('f', 1, 31));
      // A fresh reader from the start sees the same deduplicated log.
      const again = collector();
      await r.subscribe(null, again);
      await again.waitCaughtUp();
      expectCleanLog(again.entries, range('f', 1, 31));
      // Underneath, lost confirms did leave duplicates in the stream: the readers dropped them.
      const stored = await rawCount(h, Number(again.entries[30]?.position));
      if (direction === 'down') expect(stored).toBe(51);
      else expect(stored).toBe(31);
    });

    it('rejects a publish never confirmed within publishTimeoutMs with FK_TRANSPORT_TIMEOUT', async () => {
      const w = createAmqpTransport({ url: viaProxy(), history: freshHistory(), publishTimeoutMs: 500 });
      opened.push(w);
      await w.connect();
      proxy.hold('down');
      await expect(w.publish('slow', { id: 'slow', seq: 1 })).rejects.toMatchObject({
        code: 'FK_TRANSPORT_TIMEOUT',
        retryable: true,
        details: { id: 'slow', seq: 1 },
      });
    });
  });

  it('fails with FK_TRANSPORT_TIMEOUT when the peer accepts TCP but never speaks AMQP', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => undefined));
    const sockets = new Set<net.Socket>();
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const t = make(freshHistory(), { url: `amqp://guest:guest@127.0.0.1:${port}`, connectTimeoutMs: 300 });
      await expect(t.connect()).rejects.toMatchObject({ code: 'FK_TRANSPORT_TIMEOUT', retryable: true });
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  itCtl(
    'survives a broker restart: offline, read-only, then back online with delivery resumed',
    async () => {
      const { w, ws, rs, c } = await connectedPair(range('s', 1, 3));
      const wMark = ws.kinds.length;
      const rMark = rs.kinds.length;
      try {
        rabbitmqctl('stop_app');
        await ws.waitFor('offline', wMark, 30_000);
        await expect(w.publish('nope', { id: 'nope', seq: 99 })).rejects.toMatchObject({
          code: 'FK_TRANSPORT_UNAVAILABLE',
          retryable: true,
        });
      } finally {
        rabbitmqctl('start_app');
        rabbitmqctl('await_startup');
      }
      await ws.waitFor('online', wMark, 45_000);
      await rs.waitFor('online', rMark, 45_000);
      await publishAll(w, range('s', 4, 6));
      await c.waitFor(6, 20_000);
      expectCleanLog(c.entries, range('s', 1, 6));
    },
    90_000,
  );

  it('rejects bad credentials with FK_AUTH_FAILED, naming the endpoint but not the password', async () => {
    const u = new URL(url);
    u.password = 'definitely-wrong-pw';
    const t = make(freshHistory(), { url: u.toString() });
    const err: unknown = await t.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ code: 'FK_AUTH_FAILED', retryable: false });
    expect((err as Error).message).toContain(`amqp connect to ${u.hostname}:`);
    expect((err as Error).message).not.toContain('definitely-wrong-pw');
  });

  it('rejects a vhost the user cannot open with FK_ACCESS_DENIED', async () => {
    const u = new URL(url);
    u.pathname = `/fk-no-such-vhost-${randomUUID()}`;
    const t = make(freshHistory(), { url: u.toString() });
    await expect(t.connect()).rejects.toMatchObject({
      code: 'FK_ACCESS_DENIED',
      retryable: false,
      message: expect.stringContaining("access to vhost 'fk-no-such-vhost-") as unknown,
    });
  });

  it('rejects an unreachable port with a retryable FK_TRANSPORT_UNAVAILABLE', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const t = make(freshHistory(), { url: `amqp://guest:guest@127.0.0.1:${port}` });
    const seen = statusLog(t);
    await expect(t.connect()).rejects.toMatchObject({
      name: 'TransportError',
      code: 'FK_TRANSPORT_UNAVAILABLE',
      retryable: true,
      message: expect.stringContaining(`amqp connect to 127.0.0.1:${port}/ failed`) as unknown,
    });
    expect(seen.kinds).toEqual(['connecting', 'offline']);
    await expect(t.publish('x', { id: 'x', seq: 1 })).rejects.toMatchObject({ code: 'FK_TRANSPORT_UNAVAILABLE' });
  });

  itCtl('isolates users: alice uses her history and is denied on bob’s', async () => {
    const tag = randomUUID().slice(0, 8);
    const users = { alice: `fk-test-alice-${tag}`, bob: `fk-test-bob-${tag}` };
    const pw = randomUUID();
    const hist = { alice: `alice-${tag}`, bob: `bob-${tag}` };
    histories.push(hist.alice, hist.bob);
    const urlFor = (user: string): string => {
      const u = new URL(url);
      u.username = user;
      u.password = pw;
      return u.toString();
    };
    try {
      for (const who of ['alice', 'bob'] as const) {
        rabbitmqctl('add_user', users[who], pw);
        const p = historyTopology(hist[who]).permissionPattern;
        rabbitmqctl('set_permissions', '-p', vhost, users[who], p, p, p);
      }
      const alice = make(hist.alice, { url: urlFor(users.alice) });
      const bob = make(hist.bob, { url: urlFor(users.bob) });
      await alice.connect();
      await bob.connect();
      await alice.publish('alice 1', { id: 'a1', seq: 1 });
      const c = collector();
      await alice.subscribe(null, c);
      await c.waitCaughtUp();
      expect(c.entries.map((e) => e.line)).toEqual(['alice 1']);

      const intruder = make(hist.bob, { url: urlFor(users.alice) });
      const err: unknown = await intruder.connect().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TransportError);
      expect(err).toMatchObject({ code: 'FK_ACCESS_DENIED', retryable: false });
      expect((err as Error).message).toContain(`'fk.history.${hist.bob}'`);
      expect((err as Error).message).toContain('no permission');

      // Below the transport: alice can neither write to nor read bob's existing history.
      const raw = await amqp.connect(urlFor(users.alice));
      try {
        const bobT = historyTopology(hist.bob);
        const ch1 = await raw.createConfirmChannel();
        ch1.on('error', () => undefined);
        const published = new Promise<unknown>((resolve) => {
          ch1.on('close', () => resolve('closed'));
          ch1.publish(bobT.exchange, '', Buffer.from('evil'), {}, (e: unknown) => resolve(e));
        });
        expect(await published).toBeTruthy();
        const ch2 = await raw.createChannel();
        ch2.on('error', () => undefined);
        await ch2.prefetch(10);
        await expect(
          ch2.consume(bobT.queue, () => undefined, { arguments: { 'x-stream-offset': 'first' } }),
        ).rejects.toMatchObject({ code: 403 });
      } finally {
        await raw.close().catch(() => undefined);
      }
      const check = collector();
      await bob.subscribe(null, check);
      await check.waitCaughtUp();
      expect(check.entries).toEqual([]);
    } finally {
      await Promise.all(opened.splice(0).map((t) => t.close()));
      for (const who of ['alice', 'bob'] as const) {
        try {
          rabbitmqctl('delete_user', users[who]);
        } catch {
          // not created
        }
      }
    }
  });
});
