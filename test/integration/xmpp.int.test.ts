import { execFile } from 'node:child_process';
import { client, xml } from '@xmpp/client';
import type { Client, Element } from '@xmpp/client';
import { TransportError } from '../../src/core/errors';
import type { Transport, TransportStatus } from '../../src/core/transport';
import { createXmppTransport, sendXmppChatMessage } from '../../src/transports/xmpp';
import type { XmppTransportOptions } from '../../src/transports/xmpp';
import { collector, describeTransportContract } from '../contract/transport.contract';
import { describeWith, xmppEndpoint } from '../support/brokers';
import type { XmppEndpoint } from '../support/brokers';
import { hostPort, registerXmppAccount } from '../support/xmppAccounts';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy';

jest.setTimeout(30_000);
const HOOK_MS = 60_000;

type Account = { username: string; password: string };

function untilStatus(t: Transport, kind: TransportStatus['kind'], timeoutMs = 15_000): Promise<TransportStatus> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for status '${kind}'`));
    }, timeoutMs);
    const off = t.onStatus((s) => {
      if (s.kind !== kind) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

/** A bare @xmpp/client session for what the transport does not do (receive chats, set prefs). */
async function rawClient(ep: XmppEndpoint, acc: Account): Promise<{ c: Client; stanzas: Element[] }> {
  const c = client({
    service: ep.service,
    domain: ep.domain,
    username: acc.username,
    password: acc.password,
    resource: 'raw',
  });
  c.reconnect.stop();
  c.on('error', () => undefined);
  const stanzas: Element[] = [];
  c.on('stanza', (s: Element) => stanzas.push(s));
  await c.start();
  return { c, stanzas };
}

describeWith(xmppEndpoint(), 'xmpp transport (integration)', (ep) => {
  const opened: Transport[] = [];
  const proxies: FaultProxy[] = [];
  const raws: Client[] = [];
  const fresh = (): Promise<Account> => registerXmppAccount(ep.service, ep.domain);
  const make = (acc: Account, extra: Partial<XmppTransportOptions> = {}): Transport => {
    const t = createXmppTransport({
      service: ep.service,
      domain: ep.domain,
      ...acc,
      retryLowMs: 100,
      retryHighMs: 1_000,
      ...extra,
    });
    opened.push(t);
    return t;
  };
  /** Two resources of a fresh account, both connected: `a` through a TCP proxy the test can cut, `b` direct. */
  const proxiedPair = async (): Promise<{ proxy: FaultProxy; a: Transport; b: Transport }> => {
    const acc = await fresh();
    const proxy = await startFaultProxy(hostPort(ep.service).host, hostPort(ep.service).port);
    proxies.push(proxy);
    const a = make(acc, { service: `xmpp://127.0.0.1:${proxy.port}` });
    const b = make(acc);
    await a.connect();
    await b.connect();
    return { proxy, a, b };
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
    await Promise.all(raws.splice(0).map((c) => c.stop().catch(() => undefined)));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  }, HOOK_MS);

  describeTransportContract(
    'xmpp',
    async () => {
      const acc = await fresh();
      return [make(acc), make(acc)];
    },
    { timeoutMs: 15_000 },
  );

  it('round-trips lines that XML cannot carry verbatim, exactly', async () => {
    const acc = await fresh();
    const [a, b] = [make(acc), make(acc)];
    await a.connect();
    await b.connect();
    const lines = ['a\r\nb', '\u0001\u001f', '<&>"\'', '  spaced  ', '😀 🍅', '', '\uFFFF', 'tab\there'];
    for (const [i, line] of lines.entries()) await a.publish(line, { id: `w${i}`, seq: i + 1 });
    const c = collector();
    await b.subscribe(null, c);
    await c.waitCaughtUp();
    expect(c.entries.map((e) => e.line)).toEqual(lines);
  });

  it('pages across small pages with no gap or duplicate, and gives live and replay readers the same positions', async () => {
    const acc = await fresh();
    const [a, live] = [make(acc, { pageSize: 3 }), make(acc, { pageSize: 7 })];
    await a.connect();
    await live.connect();
    const l = collector();
    await live.subscribe(null, l);
    await l.waitCaughtUp();
    for (let i = 1; i <= 40; i++) await a.publish(`p${i}`, { id: `p${i}`, seq: i });
    await l.waitFor(40);
    const replay = collector();
    const u = await a.subscribe(null, replay);
    await replay.waitCaughtUp();
    await u();
    const expected = Array.from({ length: 40 }, (_, i) => `p${i + 1}`);
    expect(replay.entries.map((e) => e.line)).toEqual(expected);
    expect(l.entries.map((e) => e.line)).toEqual(expected);
    expect(l.entries.map((e) => e.position)).toEqual(replay.entries.map((e) => e.position));
    const tail = collector();
    await a.subscribe(replay.entries[29]?.position ?? null, tail);
    await tail.waitCaughtUp();
    expect(tail.entries.map((e) => e.line)).toEqual(expected.slice(30));
  });

  it('rejects an unknown start position', async () => {
    const acc = await fresh();
    const a = make(acc);
    await a.connect();
    await expect(a.subscribe('no-such-archive-id', collector())).rejects.toMatchObject({
      code: 'FK_TRANSPORT_UNAVAILABLE',
      retryable: false,
    });
  });

  it('resumes after the TCP connection is cut: read-only while offline, no loss, no duplicate', async () => {
    const { proxy, a, b } = await proxiedPair();
    const statuses: TransportStatus[] = [];
    a.onStatus((s) => statuses.push(s));
    const c = collector();
    await a.subscribe(null, c);
    await c.waitCaughtUp();
    for (let i = 1; i <= 5; i++) await b.publish(`r${i}`, { id: `r${i}`, seq: i });
    await c.waitFor(5);

    proxy.refuse = true;
    const offline = untilStatus(a, 'offline');
    proxy.dropAll();
    await offline;
    await expect(a.publish('while offline', { id: 'off', seq: 99 })).rejects.toMatchObject({
      code: 'FK_TRANSPORT_UNAVAILABLE',
      retryable: true,
    });
    for (let i = 6; i <= 10; i++) await b.publish(`r${i}`, { id: `r${i}`, seq: i });
    proxy.refuse = false;
    await untilStatus(a, 'online');
    await c.waitFor(10);
    await a.publish('r11', { id: 'r11', seq: 11 });
    await c.waitFor(11);
    expect(c.entries.map((e) => e.line)).toEqual(Array.from({ length: 11 }, (_, i) => `r${i + 1}`));
    expect(c.caughtUp).toBeGreaterThanOrEqual(2);
    const offlines = statuses.filter((s) => s.kind === 'offline');
    expect(offlines.length).toBeGreaterThanOrEqual(1);
    expect(offlines.every((s) => s.kind === 'offline' && (s.retryInMs ?? 0) > 0)).toBe(true);
  });

  it('confirms a publish whose echo was lost in a disconnect, and readers see it once', async () => {
    const { proxy, a, b } = await proxiedPair();
    const c = collector();
    await b.subscribe(null, c);
    await c.waitCaughtUp();
    proxy.hold('down');
    const published = a.publish('lost echo', { id: 'e1', seq: 1 });
    await c.waitFor(1);
    const online = untilStatus(a, 'online');
    proxy.dropAll();
    await published;
    await online;
    await a.publish('after', { id: 'e2', seq: 2 });
    await c.waitFor(2);
    const replay = collector();
    await b.subscribe(null, replay);
    await replay.waitCaughtUp();
    expect(c.entries.map((e) => e.line)).toEqual(['lost echo', 'after']);
    expect(replay.entries.map((e) => e.id)).toEqual(['e1', 'e2']);
  });

  const restart = process.env.FK_TEST_XMPP_RESTART_CMD;
  (restart ? it : it.skip)(
    'recovers from a server restart (a new session): re-sends the unconfirmed publish once, readers see it once',
    async () => {
      const { proxy, a, b } = await proxiedPair();
      const c = collector();
      await b.subscribe(null, c);
      await c.waitCaughtUp();
      await a.publish('before', { id: 's1', seq: 1 });
      await c.waitFor(1);
      // The server stores 'lost echo' but its confirmation never reaches `a`; the restart ends the
      // session, so `a` must send it again on the new one.
      proxy.hold('down');
      const published = a.publish('lost echo', { id: 's2', seq: 2 });
      await c.waitFor(2);
      const online = Promise.all([untilStatus(a, 'online', 25_000), untilStatus(b, 'online', 25_000)]);
      await new Promise<void>((resolve, reject) =>
        execFile('bash', ['-c', restart ?? ''], { cwd: `${__dirname}/../..` }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      proxy.dropAll();
      await online;
      await published;
      await b.publish('after', { id: 's3', seq: 3 });
      await c.waitFor(3);
      expect(c.entries.map((e) => e.line)).toEqual(['before', 'lost echo', 'after']);
      expect(c.caughtUp).toBeGreaterThanOrEqual(2);
      const replay = collector();
      await a.subscribe(null, replay);
      await replay.waitCaughtUp();
      expect(replay.entries.map((e) => e.id)).toEqual(['s1', 's2', 's3']);
    },
  );

  it('fails with FK_AUTH_FAILED on a wrong password, and can be closed', async () => {
    const acc = await fresh();
    const t = make({ username: acc.username, password: 'wrong' });
    const err: unknown = await t.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ code: 'FK_AUTH_FAILED', retryable: false });
    expect((err as Error).message).toContain(acc.username);
    expect((err as Error).message).not.toContain('wrong');
    await t.close();
  });

  it('stops retrying, and says why, when the password changed while disconnected', async () => {
    const acc = await fresh();
    const proxy = await startFaultProxy(hostPort(ep.service).host, hostPort(ep.service).port);
    proxies.push(proxy);
    const a = make(acc, { service: `xmpp://127.0.0.1:${proxy.port}` });
    await a.connect();
    const down = new Promise<TransportStatus>((resolve) =>
      a.onStatus((s) => s.kind === 'offline' && s.reason === 'authentication failed' && resolve(s)),
    );
    const raw = await rawClient(ep, acc);
    raws.push(raw.c);
    const change = xml(
      'query',
      { xmlns: 'jabber:iq:register' },
      xml('username', {}, acc.username),
      xml('password', {}, `new-${acc.password}`),
    );
    await raw.c.iqCaller.request(xml('iq', { type: 'set' }, change)).catch(() => undefined);
    proxy.dropAll();
    const status = await down;
    expect(status).toEqual({ kind: 'offline', reason: 'authentication failed' });
    await expect(a.publish('x', { id: 'x', seq: 1 })).rejects.toMatchObject({ code: 'FK_TRANSPORT_UNAVAILABLE' });
  });

  it('fails with FK_TRANSPORT_UNAVAILABLE when nothing listens', async () => {
    const proxy = await startFaultProxy(hostPort(ep.service).host, hostPort(ep.service).port);
    const port = proxy.port;
    await proxy.close();
    const t = make({ username: 'nobody', password: 'x' }, { service: `xmpp://127.0.0.1:${port}` });
    await expect(t.connect()).rejects.toMatchObject({ code: 'FK_TRANSPORT_UNAVAILABLE', retryable: true });
  });

  it('refuses an account whose archive would not keep messages to self', async () => {
    const acc = await fresh();
    const raw = await rawClient(ep, acc);
    raws.push(raw.c);
    await raw.c.iqCaller.request(
      xml('iq', { type: 'set' }, xml('prefs', { xmlns: 'urn:xmpp:mam:2', default: 'never' })),
    );
    const t = make(acc);
    await expect(t.connect()).rejects.toMatchObject({ code: 'FK_TRANSPORT_UNAVAILABLE', retryable: false });
    await expect(t.connect()).rejects.toThrow(/archiving preferences/);
  });

  it('sends a chat message that another account receives', async () => {
    const [sender, recipient] = [await fresh(), await fresh()];
    const raw = await rawClient(ep, recipient);
    raws.push(raw.c);
    await raw.c.send(xml('presence'));
    await sendXmppChatMessage({
      service: ep.service,
      domain: ep.domain,
      ...sender,
      to: `${recipient.username}@${ep.domain}`,
      body: 'Pomodoro finished 🍅',
    });
    const deadline = Date.now() + 10_000;
    let got: Element | undefined;
    while (!got && Date.now() < deadline) {
      got = raw.stanzas.find((s) => s.name === 'message' && s.getChildText('body') === 'Pomodoro finished 🍅');
      if (!got) await new Promise((r) => setTimeout(r, 50));
    }
    expect(got?.attrs.from?.startsWith(`${sender.username}@${ep.domain}/`)).toBe(true);
  });

  it('reports a notification to an unknown recipient and bad credentials', async () => {
    const sender = await fresh();
    await expect(
      sendXmppChatMessage({
        service: ep.service,
        domain: ep.domain,
        ...sender,
        to: `nobody-${Date.now()}@${ep.domain}`,
        body: 'x',
      }),
    ).rejects.toMatchObject({ code: 'FK_TRANSPORT_UNAVAILABLE' });
    await expect(
      sendXmppChatMessage({
        service: ep.service,
        domain: ep.domain,
        username: sender.username,
        password: 'bad',
        to: `x@${ep.domain}`,
        body: 'x',
      }),
    ).rejects.toMatchObject({ code: 'FK_AUTH_FAILED' });
  });
});
