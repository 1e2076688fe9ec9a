import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { historyName } from '../../src/app/historyName';
import { historyTopology } from '../../src/transports/amqp/topology';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { eventually, runNode } from '../support/hang';
import { rabbitmqctl, rabbitmqctlAvailable } from '../support/rabbitmqctl';

const CLI = process.env.FK_TEST_CLI ?? FK;
const PASSPHRASE = 'read only passphrase';
jest.setTimeout(180_000);

const ctl = amqpEndpoint() !== null && rabbitmqctlAvailable();

describeWith(ctl ? amqpEndpoint() : null, 'fk with a read-only RabbitMQ user (issue 11.4)', ({ url }) => {
  const base = new URL(url);
  const vhost = base.pathname.length > 1 ? decodeURIComponent(base.pathname.slice(1)) : '/';
  const histories: string[] = [];
  const users: string[] = [];
  const sb = sandbox();
  const viewer = sandbox(); // another machine: its own key cache and replica

  afterAll(async () => {
    for (const u of users) rabbitmqctl('delete_user', u);
    await deleteHistories(url, histories);
    sb.cleanup();
    viewer.cleanup();
  }, 60_000);

  /** A broker user with read permission on `history` only: no configure, no write. */
  function readOnlyUser(history: string): { name: string; password: string } {
    const name = `fk-ro-${randomUUID().slice(0, 8)}`;
    const password = randomUUID();
    rabbitmqctl('add_user', name, password);
    users.push(name);
    rabbitmqctl('set_permissions', '-p', vhost, name, '^$', '^$', historyTopology(history).permissionPattern);
    return { name, password };
  }

  const backendOf = (user: string, password: string): string =>
    `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${base.host}${base.pathname === '' ? '/' : base.pathname}`;

  it('status, state and export need only read permission; writing is refused clearly; a missing history is named', async () => {
    if (process.env.FK_TEST_CLI === undefined) assertBuilt();
    const user = `fk-ro-${randomUUID().slice(0, 8)}@example.org`;
    const history = historyName(user);
    histories.push(history);
    const owner = (...args: string[]) =>
      runNode(CLI, ['--backend', backendOf(base.username, base.password), '--user', user, ...args], {
        ...sb.env,
        FK_PASSPHRASE: PASSPHRASE,
      });
    expect((await owner('backlog', 'create', 'Today')).code).toBe(0);
    expect((await owner('workitem', 'add', 'Today', 'Read-only report', '--pomodoros', '1')).code).toBe(0);
    expect((await owner('start', 'Read-only report')).code).toBe(0);

    const ro = readOnlyUser(history);
    const view = (...args: string[]) =>
      runNode(CLI, ['--backend', backendOf(ro.name, ro.password), '--user', user, ...args], {
        ...viewer.env,
        FK_PASSPHRASE: PASSPHRASE,
      });
    const status = await view('status');
    expect({ code: status.code, stderr: status.stderr }).toEqual({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/^work: Pomodoro 1 of 'Read-only report'/);
    const state = await view('state');
    expect({ code: state.code, stderr: state.stderr }).toMatchObject({ code: 0, stderr: '' });
    const out = join(viewer.dir, 'export.txt');
    const exported = await view('export', '--out', out);
    expect({ code: exported.code, stderr: exported.stderr }).toMatchObject({ code: 0, stderr: '' });

    // Writing needs write permission: refused by the broker, or up front with --read-only.
    const refused = await view('backlog', 'create', 'Nope');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      /^fk: amqp declare exchange 'fk\.history\..*' at .* refused: this user has no permission/m,
    );
    const readOnly = await view('--read-only', 'backlog', 'create', 'Nope');
    expect(readOnly.code).toBe(4);
    expect(readOnly.stderr).toMatch(/^fk: amqp transport for history '.*' is read-only: nothing is written/m);

    // A history that does not exist is not created by a reader (`status` says "no history yet").
    const other = `fk-none-${randomUUID().slice(0, 8)}@example.org`;
    histories.push(historyName(other));
    const missing = await runNode(CLI, ['--backend', backendOf(ro.name, ro.password), '--user', other, 'state'], {
      ...viewer.env,
      FK_PASSPHRASE: PASSPHRASE,
    });
    expect(missing.code).toBe(3);
    // (`fk state` reports errors as JSON on stdout, as Flowkeeper's own state dump does)
    expect(missing.stdout).toMatch(
      /no history 'fk\.history\.fk-none-[0-9a-f]+@example\.org' at .* \(read-only: fk does not create one\)/,
    );
  });

  it('the daemon with --read-only follows a history with read permission only', async () => {
    if (process.env.FK_TEST_CLI === undefined) assertBuilt();
    const user = `fk-rod-${randomUUID().slice(0, 8)}@example.org`;
    const history = historyName(user);
    histories.push(history);
    const owner = (...args: string[]) =>
      runNode(CLI, ['--backend', backendOf(base.username, base.password), '--user', user, ...args], {
        ...sb.env,
        FK_PASSPHRASE: PASSPHRASE,
      });
    expect((await owner('backlog', 'create', 'Today')).code).toBe(0);
    const ro = readOnlyUser(history);
    const logs: Array<Record<string, unknown>> = [];
    const child = spawn(
      process.execPath,
      [
        CLI,
        '--backend',
        backendOf(ro.name, ro.password),
        '--user',
        user,
        '--read-only',
        'daemon',
        '--http',
        '127.0.0.1:0',
      ],
      {
        env: { ...viewer.env, FK_PASSPHRASE: PASSPHRASE, FK_DAEMON_STATE_DIR: join(viewer.dir, 'daemon') },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let buf = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        try {
          logs.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          logs.push({ msg: l });
        }
      }
    });
    try {
      await eventually(
        () => logs.some((l) => l.msg === 'http listening') || child.exitCode !== null,
        'the daemon to listen',
      );
      expect(child.exitCode).toBeNull();
      const port = Number(logs.find((l) => l.msg === 'http listening')?.port);
      const lastSeq = async (): Promise<number> =>
        ((await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { users: Array<{ lastSeq: number }> })
          .users[0]?.lastSeq ?? -1;
      let seen = -1;
      await eventually(
        () => seen >= 2,
        'the daemon to read the history',
        60_000,
        async () => (seen = await lastSeq()),
      );
      expect((await owner('workitem', 'add', 'Today', 'Followed', '--pomodoros', '1')).code).toBe(0);
      await eventually(
        () => seen >= 3,
        'the daemon to see the new record live',
        60_000,
        async () => (seen = await lastSeq()),
      );
      expect(logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  });
});

describeWith(amqpEndpoint(), 'fk status on a broker history nobody wrote yet', ({ url }) => {
  const sb = sandbox();
  const histories: string[] = [];
  afterAll(async () => {
    await deleteHistories(url, histories);
    sb.cleanup();
  }, 60_000);

  it('says there is no history yet, creates nothing, and a first write then works', async () => {
    if (process.env.FK_TEST_CLI === undefined) assertBuilt();
    const base = new URL(url);
    const user = `fk-new-${randomUUID().slice(0, 8)}@example.org`;
    histories.push(historyName(user));
    const fk = (...args: string[]) =>
      runNode(CLI, ['--backend', `amqp://${base.username}:${base.password}@${base.host}/`, '--user', user, ...args], {
        ...sb.env,
        FK_PASSPHRASE: PASSPHRASE,
      });
    const status = await fk('status');
    expect(status).toMatchObject({ code: 0, stderr: '', stdout: `no history yet for '${user}'\n` });
    expect(rabbitmqctl('list_queues', 'name', '--no-table-headers')).not.toContain(historyName(user));
    expect((await fk('backlog', 'create', 'First')).code).toBe(0);
    expect((await fk('status')).stdout).toBe('idle\n');
  });
});
