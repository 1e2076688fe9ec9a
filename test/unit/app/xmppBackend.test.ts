import { xmppOptionsFromUrl } from '../../../src/app/xmppBackend';

describe('xmpp:// backend URLs', () => {
  it('takes account, domain and port from the URL and the password from FK_XMPP_PASSWORD', () => {
    expect(xmppOptionsFromUrl('xmpp://alice@example.org', { FK_XMPP_PASSWORD: 's3cret' })).toEqual({
      service: 'xmpp://example.org:5222',
      domain: 'example.org',
      username: 'alice',
      password: 's3cret',
    });
    expect(xmppOptionsFromUrl('xmpp://alice:pw@localhost:5299?service=xmpp://127.0.0.1:5299', {})).toMatchObject({
      service: 'xmpp://127.0.0.1:5299',
      password: 'pw',
    });
  });

  it.each([
    ['xmpp://example.org', /must name an account/],
    ['xmpp://alice@example.org', /no password .*FK_XMPP_PASSWORD/],
    ['xmpp://alice:pw@example.org?service=http://x', /xmpp:\/\/host:port, got 'http:\/\/x'/],
  ])('rejects %s with a clear error', (url, message) => {
    expect(() => xmppOptionsFromUrl(url, {})).toThrow(expect.objectContaining({ code: 'FK_CONFIG_INVALID', message: expect.stringMatching(message) }));
  });

  it('never puts the password in an error message', () => {
    try {
      xmppOptionsFromUrl('xmpp://alice:hunter2@example.org?service=bad', {});
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});
