import { createXmppTransport } from '../../src/transports/xmpp';
import { collector } from '../contract/transport.contract';
import { describeWith, xmppEndpoint } from '../support/brokers';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { runNode } from '../support/hang';
import { hostPort, registerXmppAccount } from '../support/xmppAccounts';

const CLI = process.env.FK_TEST_CLI ?? FK;
jest.setTimeout(120_000);

describeWith(xmppEndpoint(), 'fk on xmpp: reading writes nothing to the archive (issue 11.4)', (ep) => {
  const sb = sandbox();
  afterAll(() => sb.cleanup());

  it('status on an empty archive writes no header; --read-only refuses a write, naming it', async () => {
    if (process.env.FK_TEST_CLI === undefined) assertBuilt();
    const acc = await registerXmppAccount(ep.service, ep.domain, 'fkro');
    const { host, port } = hostPort(ep.service);
    const backend = `xmpp://${acc.username}@${ep.domain}:${port}?service=xmpp://${host}:${port}`;
    const env = { ...sb.env, FK_XMPP_PASSWORD: acc.password, FK_PASSPHRASE: 'xmpp ro' };
    const status = await runNode(CLI, ['--backend', backend, 'status'], env);
    expect({ code: status.code, stderr: status.stderr }).toEqual({ code: 0, stderr: '' });
    const write = await runNode(CLI, ['--backend', backend, '--read-only', 'backlog', 'create', 'Nope'], env);
    expect(write.code).toBe(4);
    expect(write.stderr).toMatch(/^fk: xmpp transport for .* is read-only: nothing is written/m);

    const t = createXmppTransport({ service: ep.service, domain: ep.domain, ...acc });
    try {
      await t.connect();
      const c = collector();
      await t.subscribe(null, c);
      await c.waitCaughtUp();
      expect(c.entries).toEqual([]); // before: the sodium header, written by a mere `fk status`
    } finally {
      await t.close();
    }
  });
});
