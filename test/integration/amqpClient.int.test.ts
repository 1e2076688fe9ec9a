import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReplicaCache } from '../../src/app/replicaCache';
import { canonicalJson, canonicalState } from '../../src/core/engine/canonical';
import { createClient, type Client, type ReplicaCache } from '../../src/core/client';
import { manualClock } from '../../src/core/clock';
import { createSodiumCipher, formatSodiumHeader, type Cipher } from '../../src/core/crypto';
import { parseInstant } from '../../src/core/engine/time';
import type { TransportStatus } from '../../src/core/transport';
import { createAmqpTransport } from '../../src/transports/amqp';
import { deleteHistories, readRawStream } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { startFaultProxy } from '../support/faultProxy';
import { closeConnectionsNamed, rabbitmqctlAvailable } from '../support/rabbitmqctl';
import { tapTransport, type TransportTap } from '../support/transportTap';

jest.setTimeout(30_000);
const HOOK_TIMEOUT = 60_000;
const USER = 'alice@example.org';
const ADMIN = 'admin@local.host';
/** One clock for every client: the admin user's dates come from "now", so equal states need equal clocks. */
const T0 = parseInstant('2026-06-10T09:00:00Z') as number;
const ENVELOPE = /^!1 [1-9][0-9]* \S+ [A-Za-z0-9_-]+$/;

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const canon = (c: Client): string => canonicalJson(canonicalState(c.state, 'strict', T0));
const workitemUids = (c: Client, backlog: string): string[] =>
  c.state.tenant.users
    .get(USER)
    ?.backlogs.get(backlog)
    ?.workitems.values()
    .map((w) => w.uid) ?? [];

/** A sodium-encrypted history on the broker: its header is already the first entry. */
interface History {
  readonly name: string;
  readonly header: string;
  readonly cipher: Cipher;
}

/** A client on its own AMQP connection, with what a test needs to watch it. */
interface Peer {
  readonly client: Client;
  readonly tap: TransportTap;
  /** Seqs passed to `onRecord`, in order. */
  readonly seqs: number[];
  readonly statuses: TransportStatus['kind'][];
  waitSeq(seq: number): Promise<void>;
  waitStatus(kind: TransportStatus['kind'], fromIndex: number): Promise<void>;
  waitUntil(pred: () => boolean, what: string): Promise<void>;
}

describeWith(amqpEndpoint(), 'client over RabbitMQ (race sequencing, sodium, replica cache)', ({ url }) => {
  const histories: string[] = [];
  const clients: Client[] = [];
  const dirs: string[] = [];
  const clock = manualClock(T0);
  const itCtl = rabbitmqctlAvailable() ? it : it.skip;

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  }, HOOK_TIMEOUT);

  afterAll(async () => {
    await deleteHistories(url, histories);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, HOOK_TIMEOUT);

  async function newHistory(): Promise<History> {
    const name = `c-${randomUUID()}`;
    histories.push(name);
    const logId = randomUUID();
    const header = formatSodiumHeader({ logId, salt: new Uint8Array(randomBytes(16)) });
    const cipher = await createSodiumCipher({ key: new Uint8Array(randomBytes(32)), logId });
    const t = createAmqpTransport({ url, history: name });
    try {
      await t.connect();
      await t.publish(header, { id: randomUUID(), seq: 0 });
    } finally {
      await t.close();
    }
    return { name, header, cipher };
  }

  function peer(h: History, opts: { cache?: ReplicaCache; url?: string } = {}): Peer {
    const tap = tapTransport(
      createAmqpTransport({
        url: opts.url ?? url,
        history: h.name,
        retryLow: 200,
        retryHigh: 1000,
        caughtUpGraceMs: 100,
      }),
    );
    const seqs: number[] = [];
    const statuses: TransportStatus['kind'][] = [];
    let waiters: Array<() => void> = [];
    const notify = (): void => {
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    };
    const client = createClient({
      transport: tap,
      user: USER,
      cipher: h.cipher,
      sequencing: 'race',
      clock,
      ...(opts.cache ? { cache: opts.cache } : {}),
      onRecord: (r) => {
        seqs.push(r.seq);
        notify();
      },
    });
    client.onStatus((s) => {
      statuses.push(s.kind);
      notify();
    });
    clients.push(client);
    /** Re-checks on every record and status, and every few ms for what has no event (publish calls). */
    const waitUntil = (pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> =>
      new Promise((resolve, reject) => {
        const poll = setInterval(() => check(), 5);
        const timer = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        const check = (): void => {
          if (pred()) {
            clearTimeout(timer);
            clearInterval(poll);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    return {
      client,
      tap,
      seqs,
      statuses,
      waitUntil,
      waitSeq: (seq) => waitUntil(() => client.state.lastSeq >= seq, `seq ${seq} (at ${client.state.lastSeq})`),
      waitStatus: (kind, from) =>
        waitUntil(() => statuses.indexOf(kind, from) >= 0, `status '${kind}' (seen ${statuses.join(', ')})`),
    };
  }

  /** Two started clients on `h` that both see a user and backlog 'b1' (seq 1 and 2). */
  async function pair(h: History, aOpts: { url?: string } = {}): Promise<[Peer, Peer]> {
    const a = peer(h, aOpts);
    const b = peer(h);
    await Promise.all([a.client.start(), b.client.start()]);
    await a.client.execute('CreateUser', [USER, 'Alice'], { user: ADMIN });
    await a.client.execute('CreateBacklog', ['b1', 'Backlog']);
    await b.waitSeq(2);
    return [a, b];
  }

  it('two clients racing 500 appends each converge to one state, every accepted action exactly once; a late client agrees', async () => {
    const h = await newHistory();
    const [a, b] = await pair(h);
    const write = (p: Peer, tag: string): Promise<PromiseSettledResult<unknown>[]> =>
      Promise.allSettled(
        range(0, 499).map((i) => p.client.execute('CreateWorkitem', [`${tag}-${i}`, 'b1', `${tag} ${i}`])),
      );
    const [ra, rb] = await Promise.all([write(a, 'A'), write(b, 'B')]);
    const accepted: string[] = [];
    for (const [tag, results] of [
      ['A', ra],
      ['B', rb],
    ] as const) {
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') accepted.push(`${tag}-${i}`);
        // Only an action that lost a race more than maxRetries (5) times in a row may fail. With
        // both writers pipelining, the one that just won keeps a head start (it learns of its
        // win before the loser learns of its loss): about 1 action in 12 fails here.
        else expect(r.reason).toMatchObject({ code: 'FK_SEQUENCE_CONFLICT' });
      });
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(100);
    }
    const last = 2 + accepted.length;
    await a.waitSeq(last);
    await b.waitSeq(last);
    for (const p of [a, b]) {
      expect(p.client.state.lastSeq).toBe(last);
      expect(p.seqs).toEqual(range(1, last));
      expect(workitemUids(p.client, 'b1').sort()).toEqual([...accepted].sort());
    }
    expect(workitemUids(b.client, 'b1')).toEqual(workitemUids(a.client, 'b1'));
    expect(canon(b.client)).toBe(canon(a.client));

    const late = peer(h);
    await late.client.start();
    expect(late.seqs).toEqual(range(1, last));
    expect(canon(late.client)).toBe(canon(a.client));
  }, 120_000);

  it('execute resolves only once its record is applied; a stale writer re-checks and retries, or fails with the rule', async () => {
    const h = await newHistory();
    const [a, b] = await pair(h);

    // Read-your-writes: b already sees the record in the log, a has not applied it: not resolved.
    a.tap.pause();
    let resolved = false;
    const renamed = a.client.execute('RenameBacklog', ['b1', 'Renamed']).then((r) => {
      resolved = true;
      return r;
    });
    renamed.catch(() => undefined); // awaited below; this only keeps an earlier failure readable
    await b.waitSeq(3);
    expect(resolved).toBe(false);
    a.tap.resume();
    const r3 = await renamed;
    expect(r3.seq).toBe(3);
    expect(a.client.state.lastSeq).toBe(3);
    expect(a.client.state.tenant.users.get(USER)?.backlogs.get('b1')?.name).toBe('Renamed');

    // b cannot see a's next record, proposes the same seq, loses, re-checks and takes the next one.
    b.tap.pause();
    expect((await a.client.execute('CreateWorkitem', ['wa', 'b1', 'from a'])).seq).toBe(4);
    const fromB = b.client.execute('CreateWorkitem', ['wb', 'b1', 'from b']);
    fromB.catch(() => undefined);
    await b.waitUntil(() => b.tap.published === 1, 'b to publish');
    b.tap.resume();
    expect((await fromB).seq).toBe(5);
    await a.waitSeq(5);
    expect(workitemUids(a.client, 'b1')).toEqual(['wa', 'wb']);

    // The same, but a's record makes b's action invalid: the rule error, not a retry loop.
    b.tap.pause();
    await a.client.execute('DeleteBacklog', ['b1', '']);
    const late = b.client.execute('RenameBacklog', ['b1', 'too late']);
    late.catch(() => undefined);
    await b.waitUntil(() => b.tap.published === 2, 'b to publish');
    b.tap.resume();
    await expect(late).rejects.toMatchObject({ code: 'FK_NOT_FOUND' });
    expect(b.client.state.lastSeq).toBe(6);
    expect(canon(b.client)).toBe(canon(a.client));

    // The stream holds both of b's attempts at seq 4 and 6; readers ignored the losers. b's second
    // attempt may follow the record b rejected on, so read until all nine entries are there.
    const raw = await readRawStream(url, h.name, Number(b.tap.lastPosition), 20_000, 9);
    const seqOf = (body: string): number => Number(body.split(' ')[1]);
    expect(raw.slice(1).map((m) => seqOf(m.body))).toEqual([1, 2, 3, 4, 4, 5, 6, 6]);
    expect(b.seqs).toEqual(range(1, 6));
  });

  it('lets no plaintext reach the broker: only the sodium header and !1 envelopes', async () => {
    const h = await newHistory();
    const a = peer(h);
    await a.client.start();
    await a.client.execute('CreateUser', [USER, 'Alice Zebra'], { user: ADMIN });
    await a.client.execute('CreateBacklog', ['bk-secret-uid', 'Secret backlog quokka']);
    await a.client.execute('CreateWorkitem', ['wi-secret-uid', 'bk-secret-uid', 'Confidential axolotl plan']);
    await a.client.execute('RenameWorkitem', ['wi-secret-uid', 'Renamed narwhal plan']);
    const raw = await readRawStream(url, h.name, Number(a.tap.lastPosition));
    expect(raw.map((m) => m.body)[0]).toBe(h.header);
    expect(raw[0]?.body).toMatch(/^# fk-sodium v1 log=\S+ salt=[A-Za-z0-9_-]{22}$/);
    expect(raw).toHaveLength(5);
    for (const m of raw.slice(1)) expect(m.body).toMatch(ENVELOPE);
    const everything = JSON.stringify(raw);
    for (const secret of [
      'Zebra',
      'quokka',
      'axolotl',
      'narwhal',
      'secret-uid',
      'CreateBacklog',
      'CreateWorkitem',
      '2026-',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('resumes from its replica cache after a restart, confirmed by the broker; a damaged or foreign replica is rebuilt', async () => {
    const h = await newHistory();
    const dir = mkdtempSync(join(tmpdir(), 'fk-replica-'));
    dirs.push(dir);
    const cache = (): ReplicaCache => createReplicaCache(dir, `${url}\n${USER}`);
    const cacheFile = (): string => {
      const f = readdirSync(dir).find((n) => n.endsWith('.replica'));
      if (f === undefined) throw new Error('no .replica file in the replica cache');
      return join(dir, f);
    };
    /** The stored lines the replica holds, in order (`index\tposition\tcrc\tline`). */
    const cached = (): string =>
      readFileSync(cacheFile(), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => `${l.split('\t').slice(3).join('\t')}\n`)
        .join('');

    const a = peer(h, { cache: cache() });
    await a.client.start();
    await a.client.execute('CreateUser', [USER, 'Alice'], { user: ADMIN });
    await a.client.execute('CreateBacklog', ['b1', 'Backlog']);
    for (let i = 0; i < 20; i++) await a.client.execute('CreateWorkitem', [`w${i}`, 'b1', `item ${i}`]);
    await a.client.close();
    expect(cached().split('\n')).toHaveLength(24); // header + 22 + ''

    const other = peer(h);
    await other.client.start();
    for (let i = 20; i < 23; i++) await other.client.execute('CreateWorkitem', [`w${i}`, 'b1', `item ${i}`]);

    const again = peer(h, { cache: cache() });
    await again.client.start();
    expect(again.tap.delivered).toBe(4); // the last cached entry (it confirms the replica), then what is newer
    expect(again.seqs).toEqual(range(1, 25));
    expect(canon(again.client)).toBe(canon(other.client));
    await again.client.close();
    const stream = async (): Promise<string> =>
      (await readRawStream(url, h.name, Number(other.tap.lastPosition))).map((m) => `${m.body}\n`).join('');
    expect(cached()).toBe(await stream());

    // A damaged line inside the replica (its checksum fails): the replica ends before it, the rest comes from the broker.
    const lines = readFileSync(cacheFile(), 'utf8').split('\n');
    lines[5] = `${(lines[5] as string).slice(0, -8)}AAAAAAAA`;
    writeFileSync(cacheFile(), lines.join('\n'));
    const rebuilt = peer(h, { cache: cache() });
    await rebuilt.client.start();
    expect(rebuilt.client.historyError).toBeNull();
    expect(rebuilt.tap.delivered).toBe(22); // entries 5..26: the damaged one was the 6th
    expect(canon(rebuilt.client)).toBe(canon(other.client));
    await rebuilt.client.close();
    expect(cached()).toBe(await stream());

    // A replica of another log under the same key (a history deleted and created again): the
    // entry that should confirm it differs, so the client starts over from the broker.
    const h2 = await newHistory();
    const writer = peer(h2);
    await writer.client.start();
    await writer.client.execute('CreateUser', [USER, 'Alice'], { user: ADMIN });
    await writer.client.execute('CreateBacklog', ['b2', 'Other']);
    const foreign = peer(h2, { cache: cache() });
    await foreign.client.start();
    expect(foreign.client.historyError).toBeNull();
    expect(foreign.seqs).toEqual([1, 2]);
    expect(canon(foreign.client)).toBe(canon(writer.client));
    await foreign.client.close();
    const stream2 = (await readRawStream(url, h2.name, Number(writer.tap.lastPosition)))
      .map((m) => `${m.body}\n`)
      .join('');
    expect(cached()).toBe(stream2);
  });

  itCtl('is read-only while its connection is down, then resumes with nothing lost or applied twice', async () => {
    const h = await newHistory();
    const [a, b] = await pair(h);
    const aMark = a.statuses.length;
    const bMark = b.statuses.length;
    expect(closeConnectionsNamed(`fk ${h.name}`, 'fk test: connection loss')).toBe(2);
    await a.waitStatus('offline', aMark);
    expect(a.client.online).toBe(false);
    await expect(a.client.execute('CreateWorkitem', ['w0', 'b1', 'offline'])).rejects.toMatchObject({
      name: 'TransportError',
      code: 'FK_READ_ONLY',
    });
    await a.waitStatus('online', aMark);
    await b.waitStatus('online', bMark);
    expect((await a.client.execute('CreateWorkitem', ['w1', 'b1', 'after'])).seq).toBe(3);
    expect((await b.client.execute('CreateWorkitem', ['w2', 'b1', 'after, from b'])).seq).toBe(4);
    await a.waitSeq(4);
    expect(a.seqs).toEqual(range(1, 4));
    expect(b.seqs).toEqual(range(1, 4));
    expect(workitemUids(a.client, 'b1')).toEqual(['w1', 'w2']);
    expect(canon(a.client)).toBe(canon(b.client));
  });

  it.each([
    ['stored, confirm and delivery lost', 'down'],
    ['never reached the broker', 'up'],
  ] as const)('applies a publish in flight when the connection drops exactly once (%s)', async (_what, direction) => {
    const base = new URL(url);
    const proxy = await startFaultProxy(base.hostname, Number(base.port || 5672));
    try {
      const viaProxy = new URL(url);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      const h = await newHistory();
      const [a, b] = await pair(h, { url: viaProxy.toString() });
      proxy.hold(direction);
      let resolved = false;
      const inFlight = a.client.execute('CreateWorkitem', ['w1', 'b1', 'in flight']).then((r) => {
        resolved = true;
        return r;
      });
      inFlight.catch(() => undefined);
      if (direction === 'down')
        await b.waitSeq(3); // stored: b applies it, a hears nothing back
      else await a.waitUntil(() => a.tap.published === 3, 'a to publish');
      expect(resolved).toBe(false);
      const mark = a.statuses.length;
      proxy.dropAll();
      await a.waitStatus('offline', mark);
      expect((await inFlight).seq).toBe(3);
      expect((await a.client.execute('CreateWorkitem', ['w2', 'b1', 'after'])).seq).toBe(4);
      await b.waitSeq(4);
      for (const p of [a, b]) {
        expect(p.seqs).toEqual(range(1, 4));
        expect(workitemUids(p.client, 'b1')).toEqual(['w1', 'w2']);
      }
      // Underneath, a lost confirm leaves the line twice in the stream; every reader drops one.
      const raw = await readRawStream(url, h.name, Number(b.tap.lastPosition));
      expect(raw.filter((m) => m.body.startsWith('!1 3 ')).length).toBe(direction === 'down' ? 2 : 1);
      const late = peer(h);
      await late.client.start();
      expect(late.seqs).toEqual(range(1, 4));
      expect(canon(late.client)).toBe(canon(a.client));
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await proxy.close();
    }
  });
});
