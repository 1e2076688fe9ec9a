import { randomBytes, randomUUID } from 'node:crypto';
import { canonicalJson, canonicalState } from '../../src/core/engine/canonical';
import { createClient, type Client } from '../../src/core/client';
import { manualClock } from '../../src/core/clock';
import { createSodiumCipher, deriveSodiumKey, formatSodiumHeader } from '../../src/core/crypto';
import { parseInstant } from '../../src/core/engine/time';
import { createXmppTransport } from '../../src/transports/xmpp';
import { describeWith, xmppEndpoint } from '../support/brokers';
import { registerXmppAccount } from '../support/xmppAccounts';

jest.setTimeout(120_000);

const USER = 'alice@example.org';
const T0 = parseInstant('2026-06-10T09:00:00Z') as number;

/**
 * The same sequencing guarantees as on RabbitMQ: the account's archive order is the order every
 * client applies; the losing writer learns it by reading its own write back and retries.
 */
describeWith(xmppEndpoint(), 'client over XMPP (archive order as the sequencer, sodium)', (xmpp) => {
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  }, 60_000);

  it('two writers racing 100 appends each converge to identical state, every action exactly once', async () => {
    const account = await registerXmppAccount(xmpp.service, xmpp.domain, 'fkrace');
    const salt = new Uint8Array(randomBytes(16));
    const logId = randomUUID();
    const key = await deriveSodiumKey('race passphrase', salt);
    const clock = manualClock(T0);
    const mk = async (): Promise<Client> => {
      const transport = createXmppTransport({ service: xmpp.service, domain: xmpp.domain, ...account });
      const c = createClient({
        transport,
        user: USER,
        clock,
        cipher: await createSodiumCipher({ key, logId }),
        delay: (ms) => new Promise((r) => setTimeout(r, ms)),
      });
      clients.push(c);
      return c;
    };
    const a = await mk();
    const b = await mk();
    await a.start();
    await b.start();
    // the log's header (what openSession writes for a new broker history)
    const headerWriter = createXmppTransport({ service: xmpp.service, domain: xmpp.domain, ...account });
    await headerWriter.connect();
    await headerWriter.publish(formatSodiumHeader({ logId, salt }), { id: randomUUID(), seq: 0 });
    await headerWriter.close();
    await a.execute('CreateUser', [USER, 'Alice'], { user: 'admin@local.host' });
    await a.execute('CreateBacklog', ['b1', 'Race']);
    // b checks its actions against what it has read: let it see the backlog first.
    for (const until = Date.now() + 30_000; b.state.lastSeq < 2 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 20));
    // Each action either lands exactly once or fails saying it lost too many races in a row (two
    // clients in one process pipelining 100 actions each: one event loop hears every entry first
    // in the same order, so streaks happen; at human speed they do not).
    const done: string[] = [];
    const write = (c: Client, tag: string) =>
      Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          c.execute('CreateWorkitem', [`${tag}-${i}`, 'b1', `${tag} ${i}`]).then(
            () => done.push(`${tag}-${i}`),
            (err: { code?: string }) => expect(err.code).toBe('FK_SEQUENCE_CONFLICT'),
          ),
        ),
      );
    await Promise.all([write(a, 'A'), write(b, 'B')]);
    expect(done.length).toBeGreaterThan(190);
    const uids = (c: Client) =>
      c.state.tenant.users
        .get(USER)
        ?.backlogs.get('b1')
        ?.workitems.values()
        .map((w) => w.uid) ?? [];
    const deadline = Date.now() + 30_000;
    while (a.state.lastSeq !== b.state.lastSeq && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect([...uids(a)].sort()).toEqual([...done].sort());
    expect(uids(a)).toEqual(uids(b));
    expect(canonicalJson(canonicalState(a.state, 'strict', T0))).toBe(
      canonicalJson(canonicalState(b.state, 'strict', T0)),
    );
    const late = await mk();
    await late.start();
    expect(uids(late)).toEqual(uids(a));
  });
});
