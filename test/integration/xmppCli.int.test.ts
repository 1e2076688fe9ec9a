import { spawnSync } from 'node:child_process';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { describeWith, xmppEndpoint } from '../support/brokers';
import { hostPort, registerXmppAccount } from '../support/xmppAccounts';

jest.setTimeout(60_000);

describeWith(xmppEndpoint(), 'fk against an XMPP account (real Prosody)', (xmpp) => {
  let sb: ReturnType<typeof sandbox>;
  let backend: string;
  let env: NodeJS.ProcessEnv;
  const fk = (...args: string[]) =>
    spawnSync(process.execPath, [FK, '--backend', backend, ...args], { env, encoding: 'utf8', timeout: 60_000 });

  beforeAll(assertBuilt);
  beforeEach(async () => {
    sb = sandbox();
    const account = await registerXmppAccount(xmpp.service, xmpp.domain, 'fkcli');
    const { host, port } = hostPort(xmpp.service);
    backend = `xmpp://${account.username}@${xmpp.domain}:${port}?service=xmpp://${host}:${port}`;
    env = { ...sb.env, FK_XMPP_PASSWORD: account.password, FK_PASSPHRASE: 'xmpp test passphrase' };
  });
  afterEach(() => sb.cleanup());

  it('keeps an encrypted history in the account archive that another invocation reads back', () => {
    const created = fk('backlog', 'create', 'Archive backlog');
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(fk('workitem', 'add', 'Archive backlog', 'Talk #xmpp', '--pomodoros', '1').status).toBe(0);
    expect(fk('start', 'Talk #xmpp').status).toBe(0);
    const status = JSON.parse(fk('status', '--json').stdout) as {
      timer: { state: string; workitem: { name: string } };
    };
    expect(status.timer).toMatchObject({ state: 'work', workitem: { name: 'Talk #xmpp' } });
    const list = JSON.parse(fk('workitem', 'list', '--json').stdout) as Array<{ name: string; state: string }>;
    expect(list).toEqual([expect.objectContaining({ name: 'Talk #xmpp', state: 'running' })]);
  });

  it('fails with a clear message for a wrong account password and for a wrong passphrase', () => {
    expect(fk('backlog', 'create', 'x').status).toBe(0);
    const badPassword = spawnSync(process.execPath, [FK, '--backend', backend, 'backlog', 'list'], {
      env: { ...env, FK_XMPP_PASSWORD: 'wrong' },
      encoding: 'utf8',
    });
    expect(badPassword.status).toBe(4);
    expect(badPassword.stderr).toMatch(/^fk: .*(auth|credentials|password)/i);
    const badPassphrase = spawnSync(process.execPath, [FK, '--backend', backend, 'backlog', 'list'], {
      env: { ...env, FK_PASSPHRASE: 'not the passphrase' },
      encoding: 'utf8',
    });
    expect(badPassphrase.status).toBe(4);
    expect(badPassphrase.stderr).toMatch(/^fk: .*decrypt/);
  });
});
