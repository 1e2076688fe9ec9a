import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyName } from '../../src/app/historyName';
import { historyTopology } from '../../src/transports/amqp/topology';
import { deleteHistories, readRawStream } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { rabbitmqctl, rabbitmqctlAvailable } from '../support/rabbitmqctl';

/** `npm test` builds dist/ first; FK_TEST_CLI runs another build of the CLI (e.g. while dist/ is stale). */
const CLI = process.env.FK_TEST_CLI ?? FK;
const PASSPHRASE = 'correct horse battery staple';

jest.setTimeout(60_000);

describeWith(amqpEndpoint(), 'fk --backend amqp://… (end to end, encrypted)', ({ url }) => {
  const histories: string[] = [];
  const sandboxes: Array<ReturnType<typeof sandbox>> = [];
  const base = new URL(url);
  /** The broker URL as a user would type it, with the vhost path. */
  const backend = `${base.protocol}//${base.username}:${base.password}@${base.host}${base.pathname === '' ? '/' : base.pathname}`;
  const vhost = base.pathname.length > 1 ? decodeURIComponent(base.pathname.slice(1)) : '/';
  const itCtl = rabbitmqctlAvailable() ? it : it.skip;

  beforeAll(() => {
    if (process.env.FK_TEST_CLI === undefined) assertBuilt();
  });
  afterAll(async () => {
    await deleteHistories(url, histories);
    for (const sb of sandboxes) sb.cleanup();
  }, 60_000);

  /** A machine of its own (XDG dirs: key cache, replica cache) for one fk user. */
  function machine(user: string, env: NodeJS.ProcessEnv = {}) {
    const sb = sandbox();
    sandboxes.push(sb);
    const fk = (args: string[], extra: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> =>
      spawnSync(process.execPath, [CLI, '--backend', backend, '--user', user, ...args], {
        env: { ...sb.env, FK_PASSPHRASE: PASSPHRASE, ...env, ...extra },
        encoding: 'utf8',
        timeout: 60_000,
      });
    return { sb, fk };
  }

  const newUser = (): string => {
    const user = `fk-cli-${randomUUID().slice(0, 8)}@example.org`;
    histories.push(historyName(user));
    return user;
  };
  const ok = (r: SpawnSyncReturns<string>): string => {
    if (r.status !== 0) throw new Error(`fk exited ${String(r.status)}: ${r.stderr}`);
    return r.stdout;
  };
  const lastLine = (text: string): string => text.trimEnd().split('\n').pop() ?? '';

  it('writes a history to RabbitMQ and reads it back, on this and on another machine; the broker sees ciphertext only', async () => {
    const user = newUser();
    const laptop = machine(user);
    const backlog = ok(laptop.fk(['backlog', 'create', 'Secret plans'])).trim();
    expect(backlog).toMatch(/^[0-9a-f-]{36}$/);
    ok(laptop.fk(['workitem', 'add', 'Secret plans', 'Write the quokka report', '--pomodoros', '2']));
    const list = JSON.parse(ok(laptop.fk(['backlog', 'list', '--json']))) as Array<{
      uid: string;
      name: string;
      workitems: number;
    }>;
    expect(list).toMatchObject([{ uid: backlog, name: 'Secret plans', workitems: 1 }]);
    expect(lastLine(ok(laptop.fk(['start', 'Write the quokka report', '--work', '25m', '--rest', '5m'])))).toBe(
      "Pomodoro 1 of 'Write the quokka report' started",
    );
    const status = JSON.parse(ok(laptop.fk(['status', '--json']))) as Record<string, unknown>;
    expect(status).toMatchObject({ user, lastSeq: 5, online: true, timer: { state: 'work' } });
    expect(status.backend).toBe(backend.replace(`:${base.password}@`, ':***@'));

    // Another machine: no key cache, no replica; same passphrase, same history.
    const desktop = machine(user);
    expect(ok(desktop.fk(['status']))).toMatch(/^work: Pomodoro 1 of 'Write the quokka report', 2\d:\d\d left/);
    ok(desktop.fk(['workitem', 'rename', 'Write the quokka report', 'Write the narwhal report']));
    expect(ok(laptop.fk(['backlog', 'list']))).toContain('Secret plans  (1 open / 1)');
    expect(ok(laptop.fk(['status']))).toContain("of 'Write the narwhal report'");

    // The replica cache holds the stored lines, still encrypted.
    const replicas = join(laptop.sb.env.XDG_CACHE_HOME as string, 'flowkeeper-headless', 'replicas');
    const cached = readdirSync(replicas)
      .filter((f) => f.endsWith('.replica'))
      .map((f) => readFileSync(join(replicas, f), 'utf8'))
      .join('')
      .split('\n')
      .map((l) => l.split('\t').slice(3).join('\t')) // index, position, checksum, stored line
      .join('\n');
    expect(cached.split('\n')[0]).toMatch(/^# fk-sodium v1 log=/);
    expect(cached.split('\n').filter((l) => l.startsWith('!1 '))).toHaveLength(6);
    const raw = await readRawStream(url, historyName(user), 6);
    expect(raw.map((r) => r.body.slice(0, 5))).toEqual(['# fk-', '!1 1 ', '!1 2 ', '!1 3 ', '!1 4 ', '!1 5 ', '!1 6 ']);
    for (const text of [cached, JSON.stringify(raw)]) {
      for (const secret of ['Secret', 'quokka', 'narwhal', 'Create', backlog]) expect(text).not.toContain(secret);
    }
  });

  it('fails with a clear fk: message and exit 4 on a wrong passphrase, and writes nothing', async () => {
    const user = newUser();
    const m = machine(user);
    ok(m.fk(['backlog', 'create', 'Today']));
    for (const who of [m, machine(user)]) {
      // with a replica of the right lines, and on a machine without one
      const r = who.fk(['backlog', 'create', 'Tomorrow'], { FK_PASSPHRASE: 'hunter2-not-it' });
      expect(r.status).toBe(4);
      expect(lastLine(r.stderr)).toMatch(
        /^fk: line 1: wrong passphrase: this key cannot decrypt the history \(its header's key check does not match\)$/,
      );
      expect(r.stderr).not.toContain('hunter2-not-it');
      expect(r.stdout).toBe('');
    }
    const raw = await readRawStream(url, historyName(user), 2);
    expect(raw).toHaveLength(3); // header, CreateUser, CreateBacklog: nothing added
    expect(ok(m.fk(['backlog', 'list']))).toContain('Today');
  });

  it('asks for a passphrase it cannot get with exit 2 naming the sources', () => {
    const user = newUser();
    const r = machine(user).fk(['backlog', 'list'], { FK_PASSPHRASE: '' });
    expect(r.status).toBe(2);
    expect(lastLine(r.stderr)).toMatch(/^fk: .*FK_PASSPHRASE/);
  });

  itCtl('reports FK_ACCESS_DENIED clearly for a broker user without permission, never showing the password', () => {
    const tag = randomUUID().slice(0, 8);
    const brokerUsers = { narrow: `fk-cli-narrow-${tag}`, none: `fk-cli-none-${tag}` };
    const password = `pw-${randomUUID()}`;
    const user = newUser();
    const topology = historyTopology(historyName(user));
    try {
      rabbitmqctl('add_user', brokerUsers.narrow, password);
      const other = historyTopology(`someone-else-${tag}`).permissionPattern;
      rabbitmqctl('set_permissions', '-p', vhost, brokerUsers.narrow, other, other, other);
      rabbitmqctl('add_user', brokerUsers.none, password);
      const as = (brokerUser: string): SpawnSyncReturns<string> => {
        const u = new URL(url);
        u.username = brokerUser;
        u.password = '';
        const sb = sandbox();
        sandboxes.push(sb);
        // The password comes from the environment, as it should (flags show in `ps`).
        return spawnSync(process.execPath, [CLI, '--backend', u.toString(), '--user', user, 'backlog', 'list'], {
          env: { ...sb.env, FK_PASSPHRASE: PASSPHRASE, FK_AMQP_PASSWORD: password },
          encoding: 'utf8',
          timeout: 60_000,
        });
      };
      const narrow = as(brokerUsers.narrow);
      expect(narrow.status).toBe(4);
      expect(lastLine(narrow.stderr)).toBe(
        `fk: amqp declare exchange '${topology.exchange}' at ${base.host}/${vhost === '/' ? '' : vhost} refused: ` +
          `this user has no permission on '${topology.exchange}' (see docs/amqp.md)`,
      );
      const none = as(brokerUsers.none);
      expect(none.status).toBe(4);
      expect(lastLine(none.stderr)).toMatch(/^fk: amqp connect to .* failed: access to vhost '.*' refused/);
      for (const r of [narrow, none]) expect(r.stderr).not.toContain(password);
    } finally {
      for (const u of Object.values(brokerUsers)) {
        try {
          rabbitmqctl('delete_user', u);
        } catch {
          // not created
        }
      }
    }
  });
});
