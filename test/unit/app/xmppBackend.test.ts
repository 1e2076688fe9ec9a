import { srvService, xmppOptionsFromUrl } from '../../../src/app/xmppBackend';

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
    expect(() => xmppOptionsFromUrl(url, {})).toThrow(
      expect.objectContaining({ code: 'FK_CONFIG_INVALID', message: expect.stringMatching(message) }),
    );
  });

  it('never puts the password in an error message', () => {
    try {
      xmppOptionsFromUrl('xmpp://alice:hunter2@example.org?service=bad', {});
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

describe('xmpp SRV lookup (RFC 6120 §3.2.1)', () => {
  const records = (...rs: Array<[string, number, number, number]>) =>
    rs.map(([name, port, priority, weight]) => ({ name, port, priority, weight }));

  it('uses the lowest-priority target, weighted among equals', async () => {
    const asked: string[] = [];
    const resolve = async (name: string) => {
      asked.push(name);
      return records(
        ['backup.example.org', 5222, 20, 0],
        ['a.example.org', 5223, 10, 1],
        ['b.example.org.', 5224, 10, 3],
      );
    };
    expect(await srvService('xmpp://alice@example.org', resolve, () => 0)).toBe('xmpp://a.example.org:5223');
    expect(await srvService('xmpp://alice@example.org', resolve, () => 0.5)).toBe('xmpp://b.example.org:5224');
    expect(asked[0]).toBe('_xmpp-client._tcp.example.org');
  });

  it('falls back to the domain when DNS has nothing, and skips URLs that fix the service', async () => {
    const none = async () => {
      throw Object.assign(new Error('queryNoData'), { code: 'ENODATA' });
    };
    expect(await srvService('xmpp://alice@example.org', none)).toBeNull();
    const never = async () => {
      throw new Error('must not be asked');
    };
    for (const url of [
      'xmpp://a@example.org:5222',
      'xmpp://a@example.org?service=xmpp://h:1',
      'xmpp://a@localhost',
      'xmpp://a@127.0.0.1',
    ]) {
      expect(await srvService(url, never)).toBeNull();
    }
  });

  it("refuses a domain whose SRV target is '.' (no service)", async () => {
    await expect(srvService('xmpp://a@example.org', async () => records(['.', 0, 0, 0]))).rejects.toThrow(
      /offers no client service/,
    );
  });
});
