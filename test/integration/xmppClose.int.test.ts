import type { Transport, TransportStatus } from '../../src/core/transport';
import { createXmppTransport } from '../../src/transports/xmpp';
import { collector } from '../contract/transport.contract';
import { describeWith, xmppEndpoint } from '../support/brokers';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { eventually, runNode, settles } from '../support/hang';
import { hostPort, registerXmppAccount } from '../support/xmppAccounts';
import { xmppCloseWatcher } from '../support/xmppWatch';

jest.setTimeout(120_000);
const HOOK_MS = 60_000;

describeWith(xmppEndpoint(), 'xmpp transport: close when the link drops while closing (issue 11.3)', (ep) => {
  const opened: Transport[] = [];
  let proxy: FaultProxy;

  beforeEach(async () => {
    const { host, port } = hostPort(ep.service);
    proxy = await startFaultProxy(host, port, { watch: xmppCloseWatcher });
  }, HOOK_MS);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
    await proxy.close();
  }, HOOK_MS);

  /** A transport through the proxy on a fresh account, one record stored, subscribed and caught up. */
  const subscribed = async () => {
    const acc = await registerXmppAccount(ep.service, ep.domain);
    const t = createXmppTransport({ service: `xmpp://127.0.0.1:${proxy.port}`, domain: ep.domain, ...acc });
    opened.push(t);
    const statuses: TransportStatus['kind'][] = [];
    t.onStatus((s) => statuses.push(s.kind));
    await t.connect();
    await t.publish('a', { id: 'id-a', seq: 1 });
    const c = collector();
    const unsubscribe = await t.subscribe(null, c);
    await c.waitCaughtUp();
    return { t, statuses, unsubscribe };
  };

  it.each([
    ['stream.close', 'blackhole'],
    ['stream.close', 'drop'],
    ['sm.ack', 'blackhole'],
  ] as const)(
    'unsubscribe and close end when the link is cut at %s (%s), leaving no socket open',
    async (event, how) => {
      const { t, statuses, unsubscribe } = await subscribed();
      const cut = proxy.cutOn('up', event, how);
      expect(await settles(unsubscribe())).toBe('settled');
      const closing = t.close();
      await cut;
      expect(await settles(closing)).toBe('settled');
      expect(statuses[statuses.length - 1]).toBe('closed');
      await eventually(() => proxy.blackholedOpen === 0, 'the client to give up its socket');
    },
  );

  it('fk commands exit, and exit 0 means stored, when the link is cut as they close', async () => {
    if (process.env.FK_TEST_CLI === undefined) assertBuilt();
    const cli = process.env.FK_TEST_CLI ?? FK;
    const sb = sandbox();
    try {
      const acc = await registerXmppAccount(ep.service, ep.domain, 'fkclose');
      const env = { ...sb.env, FK_XMPP_PASSWORD: acc.password, FK_PASSPHRASE: 'xmpp close passphrase' };
      const backend = (port: number): string =>
        `xmpp://${acc.username}@${ep.domain}:${port}?service=xmpp://127.0.0.1:${port}`;
      const direct = (...args: string[]) =>
        runNode(cli, ['--backend', backend(hostPort(ep.service).port), ...args], env);
      expect((await direct('backlog', 'create', 'first')).code).toBe(0);
      const outcomes = [];
      // (not at `sm.ack`: a command also acknowledges stanzas long before it closes)
      for (const [event, how] of [
        ['stream.close', 'blackhole'],
        ['stream.close', 'drop'],
      ] as const) {
        const name = `b-${event}-${how}`;
        void proxy.cutOn('up', event, how);
        const r = await runNode(cli, ['--backend', backend(proxy.port), 'backlog', 'create', name], env);
        proxy.disarm();
        outcomes.push({ event, how, hung: r.hung, code: r.code, stderr: r.stderr });
      }
      const listed = await direct('backlog', 'list', '--json');
      const names = (JSON.parse(listed.stdout) as Array<{ name: string }>).map((b) => b.name).sort();
      expect(outcomes).toEqual(outcomes.map((o) => ({ ...o, hung: false, code: 0, stderr: '' })));
      expect(names).toEqual(['b-stream.close-blackhole', 'b-stream.close-drop', 'first']);
    } finally {
      sb.cleanup();
    }
  });
});
