import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { historyName } from '../../src/app/historyName';
import { historyTopology } from '../../src/transports/amqp/topology';
import { createAmqpTransport } from '../../src/transports/amqp';
import type { TransportEntry } from '../../src/core/transport';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { rabbitmqctl, rabbitmqctlAvailable } from '../support/rabbitmqctl';
import { FK } from '../support/cli';
import { describeWithRealClient, expectOk, runClient, startServe } from '../support/realClient';
import { serveScenarios, type ServeFixture } from '../support/serveScenarios';

/**
 * `fk serve --backend amqp://host/vhost` with Flowkeeper's real client: the client's e-mail and
 * password are RabbitMQ credentials (users made here with rabbitmqctl, each allowed on its own
 * history only), every scenario of issue 14.
 */
jest.setTimeout(300_000);

const PASSPHRASE = 'daemon passphrase';

describeWith(amqpEndpoint(), 'fk serve on RabbitMQ', ({ url }) => {
  const base = new URL(url);
  const vhost = base.pathname.length > 1 ? decodeURIComponent(base.pathname.slice(1)) : '/';
  const backend = `amqp://${base.host}/${vhost === '/' ? '' : encodeURIComponent(vhost)}`;
  const users: string[] = [];
  const passwords = new Map<string, string>();
  const histories: string[] = [];

  afterAll(async () => {
    await deleteHistories(url, histories);
    for (const u of users) {
      try {
        rabbitmqctl('delete_user', u);
      } catch {
        /* already gone */
      }
    }
  }, 120_000);

  /** Reads a history as the broker holds it (as the test's admin user). */
  async function stored(email: string): Promise<string[]> {
    const t = createAmqpTransport({ url, history: historyName(email) });
    await t.connect();
    const lines: string[] = [];
    let caughtUp!: () => void;
    const done = new Promise<void>((r) => (caughtUp = r));
    const unsubscribe = await t.subscribe(null, {
      onEntry: (e: TransportEntry) => lines.push(e.line),
      onCaughtUp: () => caughtUp(),
    });
    await done;
    await unsubscribe();
    await t.close();
    return lines;
  }

  const fixture = (): ServeFixture => ({
    backend,
    async newAccount(prefix) {
      const email = `fk-serve-${prefix}-${randomUUID().slice(0, 8)}@example.org`;
      const password = `pw-${randomUUID()}`;
      const pattern = historyTopology(historyName(email)).permissionPattern;
      rabbitmqctl('add_user', email, password);
      users.push(email);
      passwords.set(email, password);
      histories.push(historyName(email));
      rabbitmqctl('set_permissions', '-p', vhost, email, pattern, pattern, pattern);
      return { email, password };
    },
    stored,
    // fk signs in to the broker as the account itself (the password from the environment).
    fk: (email) => ({
      args: ['--backend', `amqp://${encodeURIComponent(email)}@${base.host}/`, '--user', email],
      env: { FK_AMQP_PASSWORD: passwords.get(email) ?? '' },
    }),
  });

  describeWithRealClient('with the real Flowkeeper client', () => {
    if (!rabbitmqctlAvailable()) {
      it('needs rabbitmqctl to create broker users', () => {
        if (process.env.CI === 'true') throw new Error('rabbitmqctl is not available');
      });
      return;
    }
    serveScenarios(fixture, ['replay', 'e2e', 'wrong-password', 'isolation', 'conflict', 'restart', 'delete']);

    it('a pomodoro started from a protocol client (end-to-end encrypted) is rung and forwarded by fk daemon', async () => {
      const acc = await fixture().newAccount('daemon');
      const server = await startServe(backend);
      const dir = mkdtempSync(join(tmpdir(), 'fk-serve-daemon-'));
      const opts = { url: server.url, user: acc.email, password: acc.password, cwd: dir, e2eKey: PASSPHRASE };
      let daemon: ChildProcess | null = null;
      try {
        // The account exists (seeded, Fernet records) before the daemon opens it.
        expectOk(
          await runClient(opts, [
            { connect: true },
            { do: 'CreateBacklog', params: ['b1', 'Today'] },
            { do: 'CreateWorkitem', params: ['w1', 'b1', 'Ring me'] },
            { do: 'AddPomodoro', params: ['w1', '1'] },
            { ping: true },
            { disconnect: true },
          ]),
        );
        const child = spawn(
          process.execPath,
          [
            FK,
            '--backend',
            `amqp://${encodeURIComponent(acc.email)}@${base.host}/`,
            '--user',
            acc.email,
            'daemon',
            '--stdout',
            '--http',
            '127.0.0.1:0',
            '--late',
            'drop',
          ],
          {
            env: {
              PATH: process.env.PATH,
              HOME: dir,
              XDG_STATE_HOME: join(dir, 'state'),
              XDG_CACHE_HOME: join(dir, 'cache'),
              XDG_CONFIG_HOME: join(dir, 'config'),
              FK_AMQP_PASSWORD: acc.password,
              FK_PASSPHRASE: PASSPHRASE,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        daemon = child;
        let out = '';
        let err = '';
        child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
        const until = async (pred: () => boolean, what: string): Promise<void> => {
          const deadline = Date.now() + 120_000;
          while (!pred()) {
            if (Date.now() > deadline || child.exitCode !== null)
              throw new Error(`no ${what}; daemon stdout:\n${out}\nstderr:\n${err.slice(-3000)}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        await until(() => err.includes('"daemon ready"'), 'daemon ready');
        // 3 s of work, 2 s of rest, started from the protocol client.
        expectOk(
          await runClient(opts, [
            { connect: true },
            { do: 'StartTimer', params: ['w1', '3', '2'] },
            { ping: true },
            { disconnect: true },
          ]),
        );
        const types = (): string[] =>
          out
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => (JSON.parse(l) as { type: string }).type);
        await until(() => types().includes('rest.finished'), 'rest.finished');
        expect(types().filter((t) => !t.startsWith('daemon.'))).toEqual(
          expect.arrayContaining(['work.started', 'work.finished', 'rest.finished']),
        );
        expect(out).toContain('Ring me');
      } finally {
        if (daemon && daemon.exitCode === null) daemon.kill('SIGTERM');
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("the broker keeps one account out of another's history, whatever the server does", async () => {
      const carol = await fixture().newAccount('iso-carol');
      const dave = await fixture().newAccount('iso-dave');
      const asDave = new URL(url);
      asDave.username = encodeURIComponent(dave.email);
      asDave.password = encodeURIComponent(dave.password);
      const conn = await amqp.connect(asDave.toString());
      try {
        const ch = await conn.createChannel();
        const refused = new Promise<unknown>((resolve) => ch.on('error', resolve));
        await ch.prefetch(10);
        await ch
          .consume(historyTopology(historyName(carol.email)).queue, () => undefined, {
            arguments: { 'x-stream-offset': 'first' },
          })
          .catch((err: unknown) => err);
        expect(String(await refused)).toMatch(/ACCESS_REFUSED/);
      } finally {
        await conn.close().catch(() => undefined);
      }
    });
  });
});
