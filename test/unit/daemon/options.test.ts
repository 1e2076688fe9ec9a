import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/app/config';
import { resolveDaemonConfig, type DaemonFlags, type WebhookTargetConfig } from '../../../src/daemon/options';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A config file with a `daemon` section, resolved like `fk daemon` does. */
function resolve(daemon: unknown, flags: DaemonFlags = {}, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fk-dcfg-'));
  dirs.push(dir);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ backend: join(dir, 'data.txt'), user: 'alice@example.org', daemon }));
  const fullEnv = { HOME: dir, XDG_STATE_HOME: join(dir, 'state'), ...env };
  return resolveDaemonConfig(loadConfig({ config: file }, fullEnv), flags, fullEnv);
}

const fails = (daemon: unknown, message: RegExp, env: NodeJS.ProcessEnv = {}) => {
  let thrown: unknown;
  try {
    resolve(daemon, {}, env);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toMatchObject({ code: 'FK_CONFIG_INVALID' });
  expect((thrown as Error).message).toMatch(message);
  return (thrown as Error).message;
};

describe('daemon configuration', () => {
  it('defaults to one stdout target, late drop, 127.0.0.1:8787, info logs, the global user and backend', () => {
    const c = resolve(undefined);
    expect(c).toMatchObject({
      name: 'default',
      late: 'drop',
      http: { host: '127.0.0.1', port: 8787 },
      logLevel: 'info',
    });
    expect(c.targets.map((t) => t.type)).toEqual(['stdout']);
    expect(c.users.map((u) => u.user)).toEqual(['alice@example.org']);
    expect(c.stateDir).toMatch(/state\/flowkeeper-headless\/daemon\/default$/);
  });

  it('resolves flags over FK_* environment over the file', () => {
    const file = { name: 'from-file', late: 'drop', http: '127.0.0.1:9000' };
    expect(resolve(file).name).toBe('from-file');
    expect(resolve(file, {}, { FK_DAEMON_NAME: 'from-env', FK_DAEMON_LATE: 'send' })).toMatchObject({
      name: 'from-env',
      late: 'send',
    });
    expect(resolve(file, { name: 'from-flag', http: 'off' }, { FK_DAEMON_NAME: 'from-env' })).toMatchObject({
      name: 'from-flag',
      http: null,
    });
    expect(resolve(file, {}, { FK_DAEMON_HTTP: '0.0.0.0:8080' }).http).toEqual({ host: '0.0.0.0', port: 8080 });
  });

  it('reads targets with their filters, retry policy and derived dedupe keys', () => {
    const c = resolve({
      targets: [
        {
          type: 'webhook',
          url: 'http://127.0.0.1:9/hook',
          secret: 's3cret',
          events: ['work.*', 'rest.finished'],
          retry: { minMs: 10, maxMs: 100 },
        },
        { type: 'hook', argv: ['notify-send', 'fk'], timeoutMs: 500 },
        { type: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672/', exchange: 'fk.events' },
        { type: 'webhook', url: 'http://127.0.0.1:9/other' },
      ],
    });
    expect(c.targets.map((t) => t.name)).toEqual(['webhook', 'hook', 'amqp', 'webhook-2']);
    const w = c.targets[0] as WebhookTargetConfig;
    expect(w).toMatchObject({
      secret: 's3cret',
      events: ['work.*', 'rest.finished'],
      retry: { minMs: 10, maxMs: 100, maxAttempts: 0 },
      dedupeKey: 'webhook:http://127.0.0.1:9/hook',
    });
    expect(c.targets[1]?.dedupeKey).toBeNull();
  });

  it('adds targets given by flags and environment, the signing secret from FK_DAEMON_WEBHOOK_SECRET', () => {
    const c = resolve(
      undefined,
      { stdout: true, events: 'work.*' },
      { FK_DAEMON_WEBHOOK_URL: 'https://example.org/fk', FK_DAEMON_WEBHOOK_SECRET: 'envsecret' },
    );
    expect(c.targets.map((t) => `${t.type}:${t.events.join('|')}`)).toEqual(['stdout:work.*', 'webhook:work.*']);
    expect((c.targets[1] as WebhookTargetConfig).secret).toBe('envsecret');
  });

  it('takes the sessions from daemon.users unless --user/--backend was given', () => {
    const users = [{ user: 'alice@example.org' }, { user: 'bob@example.org', backend: 'amqp://bob@127.0.0.1/' }];
    expect(resolve({ users }).users.map((u) => `${u.user} ${u.backend.startsWith('amqp') ? 'amqp' : 'file'}`)).toEqual([
      'alice@example.org file',
      'bob@example.org amqp',
    ]);
    expect(resolve({ users }, { sessionFlags: true }).users).toHaveLength(1);
  });

  it('names the field and the value in errors', () => {
    fails({ late: 'later' }, /^daemon\.late must be 'drop' or 'send', got 'later'$/);
    fails(
      { targets: [{ type: 'webhook', url: 'ftp://x' }] },
      /^daemon\.targets\[0\]\.url must be an http:\/\/ or https:\/\/ URL, got 'ftp:\/\/x'$/,
    );
    fails({ targets: [{ type: 'hook', argv: [] }] }, /daemon\.targets\[0\]\.argv must be a non-empty array/);
    fails({ targets: [{ type: 'pager' }] }, /daemon\.targets\[0\]\.type must be one of/);
    fails(
      { targets: [{ type: 'stdout', events: ['work.begun'] }] },
      /daemon\.targets\[0\]\.events must be a list of event types.*got 'work\.begun'/,
    );
    fails({ http: 'localhost' }, /daemon\.http must be 'host:port' or 'off', got 'localhost'/);
    fails({ shutdownTimeoutMs: -1 }, /daemon\.shutdownTimeoutMs must be an integer >= 0, got -1/);
    fails({ tagrets: [] }, /daemon\.tagrets is not a known setting/);
    fails({ users: [{ user: 'a b' }] }, /daemon\.users\[0\]\.user must be an identity/);
    fails(
      { targets: [{ type: 'webhook', url: 'http://x/', secretEnv: 'NOPE_NOT_SET' }] },
      /secretEnv names 'NOPE_NOT_SET', which is not set/,
    );
  });

  it('masks secrets and URL credentials in errors', () => {
    const m1 = fails(
      { targets: [{ type: 'webhook', url: 'http://x/', secret: 42 }] },
      /secret must be a non-empty string, got '\*\*\*'/,
    );
    expect(m1).not.toContain('42');
    const m2 = fails(
      {
        targets: [
          { type: 'xmpp', service: 'xmpp://127.0.0.1:5222', username: 'bot', password: 'hunter2', to: 'not a jid' },
        ],
      },
      /to must be a JID/,
    );
    expect(m2).not.toContain('hunter2');
    const m3 = fails(
      {
        users: [
          { user: 'a@x.io', backend: 'amqp://u:topsecret@h/' },
          { user: 'a@x.io', backend: 'amqp://u:topsecret@h/' },
        ],
      },
      /listed twice/,
    );
    expect(m3).not.toContain('topsecret');
  });

  it('accepts the example configuration shipped for Docker compose', () => {
    const example = join(__dirname, '../../../docker/daemon.example.json');
    const env = { HOME: tmpdir(), FK_AMQP_PASSWORD: 'pw' };
    const c = resolveDaemonConfig(loadConfig({ config: example }, env), {}, env);
    expect(c.targets.map((t) => t.type)).toEqual(['stdout', 'amqp']);
    expect(c.targets[1]).toMatchObject({ url: 'amqp://fk:pw@rabbitmq:5672/', exchange: 'fk.events' });
  });
});
