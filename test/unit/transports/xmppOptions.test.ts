import { InputError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/logger';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_PAGE_SIZE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_HIGH_MS,
  DEFAULT_RETRY_LOW_MS,
  normalizeXmppOptions,
} from '../../../src/transports/xmpp/options';
import type { XmppTransportOptions } from '../../../src/transports/xmpp/options';

const base: XmppTransportOptions = {
  service: 'xmpp://127.0.0.1:5222',
  domain: 'localhost',
  username: 'alice',
  password: 's3cret',
};
const hex = (): string => 'abcd1234';

function rejection(options: Partial<XmppTransportOptions> & Record<string, unknown>): InputError {
  try {
    normalizeXmppOptions({ ...base, ...options } as XmppTransportOptions, hex);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected normalizeXmppOptions to throw');
}

describe('normalizeXmppOptions', () => {
  it('applies every default', () => {
    expect(normalizeXmppOptions(base, hex)).toEqual({
      ...base,
      resource: 'flowkeeper-abcd1234',
      pageSize: DEFAULT_PAGE_SIZE,
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      retryLowMs: DEFAULT_RETRY_LOW_MS,
      retryHighMs: DEFAULT_RETRY_HIGH_MS,
      logger: silentLogger,
      readOnly: false,
    });
  });

  it('takes the domain from the service when absent, as @xmpp/client does', () => {
    expect(
      normalizeXmppOptions({ ...base, domain: undefined, service: 'xmpps://chat.example.org:5223' }, hex).domain,
    ).toBe('chat.example.org');
    expect(
      normalizeXmppOptions({ ...base, domain: undefined, service: 'wss://example.org/xmpp-websocket' }, hex).domain,
    ).toBe('example.org');
  });

  it('generates a distinct resource per transport by default', () => {
    const a = normalizeXmppOptions(base).resource;
    const b = normalizeXmppOptions(base).resource;
    expect(a).toMatch(/^flowkeeper-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });

  it.each([
    [
      'service',
      'http://example.org',
      "option 'service' must be an xmpp://, xmpps://, ws:// or wss:// URL without credentials, got 'http://example.org'",
    ],
    [
      'service',
      'xmpp://bob:pw@example.org',
      "option 'service' must be an xmpp://, xmpps://, ws:// or wss:// URL without credentials, got 'xmpp://***@example.org'",
    ],
    ['domain', 'a@b', "option 'domain' must be a domain name, got 'a@b'"],
    ['username', 'alice@localhost', "option 'username' must be a JID local part, got 'alice@localhost'"],
    ['username', '', "option 'username' must be a JID local part, got ''"],
    ['resource', 'has space', "option 'resource' must be a non-empty string without spaces, got 'has space'"],
    ['pageSize', 0, "option 'pageSize' must be an integer from 1 to 10000, got '0'"],
    ['pageSize', 2.5, "option 'pageSize' must be an integer from 1 to 10000, got '2.5'"],
    ['requestTimeoutMs', -5, "option 'requestTimeoutMs' must be an integer from 1 to 3600000, got '-5'"],
    ['connectTimeoutMs', '10', "option 'connectTimeoutMs' must be an integer from 1 to 3600000, got '10'"],
    ['retryHighMs', 10, "option 'retryHighMs' must be at least retryLowMs (1000), got '10'"],
  ])('rejects %s = %j with FK_CONFIG_INVALID naming field and value', (field, value, message) => {
    const err = rejection({ [field]: value });
    expect(err.code).toBe('FK_CONFIG_INVALID');
    expect(err.message).toBe(message);
    expect(err.details).toMatchObject({ field });
  });

  it('never shows the password', () => {
    const err = rejection({ password: 12345 as unknown as string });
    expect(err.code).toBe('FK_CONFIG_INVALID');
    expect(err.message).toBe("option 'password' must be a non-empty string, got '***'");
    expect(JSON.stringify(err.details)).not.toContain('12345');
    expect(rejection({ password: '' }).message).toBe("option 'password' must be a non-empty string, got ''");
    expect(rejection({ pageSize: -1 }).message).not.toContain(base.password);
  });
});
