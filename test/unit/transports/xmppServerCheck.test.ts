import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/client';
import { TransportError } from '../../../src/core/errors';
import { assertServerSupport } from '../../../src/transports/xmpp/serverCheck';
import type { XmppConnection } from '../../../src/transports/xmpp/xmppConnection';

const ME = 'alice@example.org';
const ACCOUNT_OK = ['urn:xmpp:mam:2', 'urn:xmpp:sid:0'];
const SERVER_OK = ['urn:xmpp:carbons:2'];

/** A server that answers disco#info and MAM prefs from canned data (no network). */
function server(account: string[], features: string[], prefsDefault = 'always'): XmppConnection {
  const disco = (vars: string[]): Element =>
    xml(
      'iq',
      { type: 'result' },
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }, ...vars.map((v) => xml('feature', { var: v }))),
    );
  return {
    ownBare: ME,
    start: async () => undefined,
    send: async () => undefined,
    drop: () => undefined,
    stop: async () => undefined,
    request: async (iq) => {
      if (iq.getChild('prefs'))
        return xml('iq', { type: 'result' }, xml('prefs', { xmlns: 'urn:xmpp:mam:2', default: prefsDefault }));
      return disco(iq.attrs.to === ME ? account : features);
    },
  };
}

async function refusal(conn: XmppConnection): Promise<TransportError> {
  const err: unknown = await assertServerSupport(conn, 'example.org').then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof TransportError)) throw new Error(`expected a TransportError, got ${String(err)}`);
  return err;
}

describe('assertServerSupport', () => {
  it('accepts an account with an archive, stanza ids, carbons and prefs that store messages to self', async () => {
    await expect(assertServerSupport(server(ACCOUNT_OK, SERVER_OK), 'example.org')).resolves.toBeUndefined();
  });

  it.each([
    ['no message archive', server(['urn:xmpp:sid:0'], SERVER_OK), 'urn:xmpp:mam:2', /XEP-0313/],
    ['no stanza ids', server(['urn:xmpp:mam:2'], SERVER_OK), 'urn:xmpp:sid:0', /XEP-0359/],
    ['no carbons', server(ACCOUNT_OK, []), 'urn:xmpp:carbons:2', /XEP-0280/],
    ['prefs that archive only the roster', server(ACCOUNT_OK, SERVER_OK, 'roster'), 'mam-prefs', /default 'roster'/],
  ])('refuses a server with %s, not retryable, naming what is missing', async (_what, conn, missing, message) => {
    const err = await refusal(conn);
    expect(err).toMatchObject({
      code: 'FK_TRANSPORT_UNAVAILABLE',
      retryable: false,
      details: { account: ME, missing },
    });
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`'${ME}'`);
  });
});
