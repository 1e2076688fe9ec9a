import { InputError } from '../../../src/core/errors';
import {
  DEFAULT_CAUGHT_UP_GRACE_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DEDUPE_WINDOW,
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_PREFETCH,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  DEFAULT_RETRY_HIGH_MS,
  DEFAULT_RETRY_LOW_MS,
  maskUrl,
  normalizeAmqpOptions,
  type AmqpTransportOptions,
} from '../../../src/transports/amqp/options';

const base: AmqpTransportOptions = { url: 'amqp://alice:s3cret@broker.example:5672/fk', history: 'alice' };

function configError(options: unknown): InputError {
  try {
    normalizeAmqpOptions(options as AmqpTransportOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'FK_CONFIG_INVALID' });
    return err as InputError;
  }
  throw new Error('expected FK_CONFIG_INVALID');
}

describe('normalizeAmqpOptions', () => {
  it('applies the documented defaults', () => {
    const o = normalizeAmqpOptions(base);
    expect(o).toMatchObject({
      endpoint: 'broker.example:5672/fk',
      vhost: 'fk',
      history: 'alice',
      prefetch: DEFAULT_PREFETCH,
      retryLow: DEFAULT_RETRY_LOW_MS,
      retryHigh: DEFAULT_RETRY_HIGH_MS,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      publishTimeoutMs: DEFAULT_PUBLISH_TIMEOUT_MS,
      caughtUpGraceMs: DEFAULT_CAUGHT_UP_GRACE_MS,
      dedupeWindow: DEFAULT_DEDUPE_WINDOW,
    });
    expect(o.connect).toEqual({
      protocol: 'amqp',
      hostname: 'broker.example',
      port: 5672,
      username: 'alice',
      password: 's3cret',
      vhost: 'fk',
      heartbeat: DEFAULT_HEARTBEAT_SECONDS,
    });
    expect(o.topology.queue).toBe('fk.history.alice');
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('defaults the port by protocol and the vhost to /', () => {
    expect(normalizeAmqpOptions({ ...base, url: 'amqp://h' })).toMatchObject({ endpoint: 'h:5672/', vhost: '/' });
    expect(normalizeAmqpOptions({ ...base, url: 'amqps://h' }).connect).toMatchObject({
      protocol: 'amqps',
      port: 5671,
    });
  });

  it('decodes percent-encoded credentials and vhost, and keeps the vhost encoded for amqplib', () => {
    const o = normalizeAmqpOptions({ ...base, url: 'amqp://al%40ice:p%3Aw%2F@h:1234/my%2Fvhost' });
    expect(o.connect).toMatchObject({ username: 'al@ice', password: 'p:w/', port: 1234, vhost: 'my%2Fvhost' });
    expect(o.vhost).toBe('my/vhost');
    expect(o.endpoint).toBe('h:1234/my/vhost');
  });

  it('passes retention through to the queue arguments', () => {
    expect(normalizeAmqpOptions({ ...base, maxAge: '7D' }).topology.queueArguments).toEqual({
      'x-queue-type': 'stream',
      'x-max-age': '7D',
    });
  });

  it('raises retryHigh to retryLow when only retryLow is given above the default cap', () => {
    expect(normalizeAmqpOptions({ ...base, retryLow: 60_000 })).toMatchObject({ retryLow: 60_000, retryHigh: 60_000 });
  });

  it.each([
    [{ url: 'http://h/' }, "option 'url' must be an amqp:// or amqps:// URL with a host, got 'http://h/'"],
    [{ url: 'not a url' }, "option 'url' must be an amqp:// or amqps:// URL, got 'not a url'"],
    [{ url: 42 }, "option 'url' must be an amqp:// or amqps:// URL, got '42'"],
    [{ url: 'amqp://h/a/b' }, "option 'url' has vhost 'a/b': percent-encode '/' in a vhost name as %2F"],
    [
      { history: 'a b' },
      "option 'history' must be 1-128 letters, digits or '._@+-' starting with a letter or digit, got 'a b'",
    ],
    [
      { history: undefined },
      "option 'history' must be 1-128 letters, digits or '._@+-' starting with a letter or digit, got 'undefined'",
    ],
    [{ maxAge: '7 days' }, "option 'maxAge' must look like '7D' (a number and one of Y M D h m s), got '7 days'"],
    [{ prefetch: 0 }, "option 'prefetch' must be an integer from 1 to 65535, got '0'"],
    [{ prefetch: 70_000 }, "option 'prefetch' must be an integer from 1 to 65535, got '70000'"],
    [{ heartbeatSeconds: -5 }, "option 'heartbeatSeconds' must be an integer from 0 to 65535, got '-5'"],
    [{ retryLow: 1.5 }, "option 'retryLow' must be an integer from 1 to 2147483647, got '1.5'"],
    [{ retryLow: 500, retryHigh: 100 }, "option 'retryHigh' must be >= retryLow (500), got '100'"],
    [{ connectTimeoutMs: '10s' }, "option 'connectTimeoutMs' must be an integer from 1 to 2147483647, got '10s'"],
    [{ publishTimeoutMs: 0 }, "option 'publishTimeoutMs' must be an integer from 1 to 2147483647, got '0'"],
    [{ caughtUpGraceMs: -1 }, "option 'caughtUpGraceMs' must be an integer from 0 to 2147483647, got '-1'"],
    [{ dedupeWindow: 0 }, "option 'dedupeWindow' must be an integer from 1 to 10000000, got '0'"],
    [{ prefech: 10 }, "unknown amqp transport option 'prefech'"],
  ])('rejects %p', (patch, message) => {
    expect(configError({ ...base, ...patch }).message).toBe(message);
  });

  it('rejects a non-object', () => {
    expect(configError(null).message).toBe("amqp transport options must be an object, got 'null'");
  });

  it('never puts the password in an error message', () => {
    for (const url of ['ftp://bob:hunter2@h/', 'amqp://bob:hunter2@h/a/b', 'amqp://bob:hunter2@h:99999/']) {
      const err = configError({ ...base, url });
      expect(err.message).not.toContain('hunter2');
    }
    const unparsable = configError({ ...base, url: 'amqp://bob:hunter2@ho st/' });
    expect(unparsable.message).toContain('bob:***@');
  });
});

describe('maskUrl', () => {
  it.each([
    ['amqp://u:p@h:5672/v', 'amqp://u:***@h:5672/v'],
    ['amqps://u:p%40ss@h', 'amqps://u:***@h'],
    ['amqp://u@h', 'amqp://u@h'],
    ['amqp://h:5672/', 'amqp://h:5672/'],
  ])('masks %p', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });
});
