import { createXmppTransport } from '../../src/transports/xmpp';
import type { TransportEntry } from '../../src/core/transport';
import { describeWith, xmppEndpoint } from '../support/brokers';
import { rawLine, signInRaw } from '../support/rawProtocol';
import { describeWithRealClient, startServe } from '../support/realClient';
import { serveScenarios, type ServeFixture } from '../support/serveScenarios';
import { registerXmppAccount } from '../support/xmppAccounts';

/**
 * `fk serve --backend xmpp://domain` with Flowkeeper's real client: a client signs in with its
 * JID and password (fresh in-band registered accounts). The test server's domain is `localhost`,
 * which Flowkeeper's client cannot use as a user domain, so clients sign in as
 * `name@serve.test` (`email-domain`), i.e. the XMPP account `name@localhost`.
 */
jest.setTimeout(300_000);

const EMAIL_DOMAIN = 'serve.test';

describeWith(xmppEndpoint(), 'fk serve on XMPP', ({ service, domain }) => {
  const backend = `xmpp://${domain}?service=${encodeURIComponent(service)}&email-domain=${EMAIL_DOMAIN}`;
  const passwords = new Map<string, string>();

  async function stored(email: string): Promise<string[]> {
    const username = email.split('@')[0] as string;
    const t = createXmppTransport({ service, domain, username, password: passwords.get(email) as string });
    await t.connect();
    const lines: string[] = [];
    let caughtUp!: () => void;
    const done = new Promise<void>((r) => (caughtUp = r));
    const unsubscribe = await t.subscribe(null, {
      onEntry: (e: TransportEntry) => lines.push(e.line),
      onCaughtUp: () => caughtUp(),
    });
    await done;
    await unsubscribe();
    await t.close();
    return lines;
  }

  const fixture = (): ServeFixture => ({
    backend,
    async newAccount(prefix) {
      const { username, password } = await registerXmppAccount(service, domain, `fks-${prefix}`);
      const email = `${username}@${EMAIL_DOMAIN}`;
      passwords.set(email, password);
      return { email, password };
    },
    stored,
    fk: (email) => ({
      args: [
        '--backend',
        `xmpp://${email.split('@')[0]}@${domain}?service=${encodeURIComponent(service)}`,
        '--user',
        email,
      ],
      env: { FK_XMPP_PASSWORD: passwords.get(email) ?? '' },
    }),
  });

  describeWithRealClient('with the real Flowkeeper client', () => {
    serveScenarios(fixture, ['replay', 'e2e', 'wrong-password', 'isolation', 'conflict', 'restart']);

    it('refuses DeleteAccount (an account cannot delete its archive) and keeps the history', async () => {
      const acc = await fixture().newAccount('nodelete');
      const server = await startServe(backend);
      try {
        const s = await signInRaw(server.url, acc.email, acc.password);
        const at = s.lines.length;
        s.send(rawLine(2, acc.email, 'DeleteAccount', ['']));
        expect(await s.waitFor((l) => /: Error\(/.test(l), 'the refusal', at)).toMatch(
          /Error\("501", "DeleteAccount is not supported on the xmpp backend"\)/,
        );
        s.close();
        expect(await stored(acc.email)).toEqual([expect.stringContaining(`CreateUser("${acc.email}"`)]);
      } finally {
        await server.stop();
      }
    });
  });
});
