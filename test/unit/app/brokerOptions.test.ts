import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RECONNECT_MAX_MS, resolveAmqpSettings, resolveXmppSettings } from '../../../src/app/brokerOptions';
import type { Config } from '../../../src/app/config';

/** A config whose file held `raw` (only `raw` matters here). */
const config = (raw: Record<string, unknown>): Config =>
  ({
    backend: 'amqp://h/',
    user: 'u',
    logLevel: 'warn',
    encryption: 'auto',
    passphraseFile: undefined,
    cacheDir: '/c',
    configFile: undefined,
    raw,
  }) as Config;

describe('broker settings from the config file and FK_* variables', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'fk-brokeropts-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has defaults: no heartbeat or retention override, reconnects capped at 5 s, SRV on', () => {
    expect(resolveAmqpSettings(config({}), {})).toEqual({ reconnectMaxMs: DEFAULT_RECONNECT_MAX_MS });
    expect(resolveXmppSettings(config({}), {})).toEqual({ srv: true, reconnectMaxMs: 5000 });
  });

  it('takes the environment over the file', () => {
    const c = config({ amqp: { heartbeatSeconds: 30, maxAge: '10Y', reconnectMaxMs: 2000 }, xmpp: { srv: true } });
    expect(resolveAmqpSettings(c, {})).toEqual({ heartbeatSeconds: 30, maxAge: '10Y', reconnectMaxMs: 2000 });
    const env = { FK_AMQP_HEARTBEAT: '5', FK_AMQP_MAX_AGE: '3650D', FK_RECONNECT_MAX_MS: '1000', FK_XMPP_SRV: 'off' };
    expect(resolveAmqpSettings(c, env)).toEqual({ heartbeatSeconds: 5, maxAge: '3650D', reconnectMaxMs: 1000 });
    expect(resolveXmppSettings(c, env)).toEqual({ srv: false, reconnectMaxMs: 1000 });
  });

  it('reads the TLS files named, and names a file it cannot read', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'CA PEM');
    expect(resolveAmqpSettings(config({ amqp: { caFile: ca } }), {}).ca?.toString()).toBe('CA PEM');
    expect(() => resolveAmqpSettings(config({}), { FK_AMQP_CA_FILE: join(dir, 'missing.pem') })).toThrow(
      `cannot read the CA certificate file '${join(dir, 'missing.pem')}': ENOENT`,
    );
    expect(() => resolveAmqpSettings(config({ amqp: { certFile: ca } }), {})).toThrow(
      /needs both amqp.certFile .* and amqp.keyFile/,
    );
  });

  it.each([
    [
      { amqp: { heartbeat: 5 } },
      "config file: unknown key 'amqp.heartbeat' (known: heartbeatSeconds, maxAge, caFile, certFile, keyFile, reconnectMaxMs)",
    ],
    [
      { amqp: { maxAge: '7 days' } },
      `config file: 'amqp.maxAge' must be an age like '3650D' (a number and one of Y M D h m s), got "7 days"`,
    ],
    [{ amqp: 'x' }, `config file: 'amqp' must be an object, got "x"`],
    [{ xmpp: { srv: 'yes' } }, `config file: 'xmpp.srv' must be true or false, got "yes"`],
  ])('refuses %j', (raw, message) => {
    const run = () => ('xmpp' in raw ? resolveXmppSettings(config(raw), {}) : resolveAmqpSettings(config(raw), {}));
    expect(run).toThrow(message);
  });

  it('names a bad environment variable', () => {
    expect(() => resolveAmqpSettings(config({}), { FK_AMQP_HEARTBEAT: 'soon' })).toThrow(
      'environment variable FK_AMQP_HEARTBEAT must be seconds from 0 to 65535, got "soon"',
    );
    expect(() => resolveXmppSettings(config({}), { FK_RECONNECT_MAX_MS: '5' })).toThrow(
      /FK_RECONNECT_MAX_MS must be milliseconds from 100/,
    );
  });
});
