import * as net from 'node:net';
import { randomUUID } from 'node:crypto';
import { historyName } from '../../src/app/historyName';
import { amqpFrameWatcher } from '../support/amqpFrames';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith, xmppEndpoint } from '../support/brokers';
import { hostPort as xmppHostPort } from '../support/xmppAccounts';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy';
import { runNode } from '../support/hang';

const CLI = process.env.FK_TEST_CLI ?? FK;
jest.setTimeout(120_000);

/** The `fk:` lines of a run's stderr (warnings of Node itself are not ours to word). */
const fkLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('fk: '));

describeWith(
  amqpEndpoint(),
  'fk on amqp: library errors reach users as documented fk: messages (issue 11.7)',
  ({ url }) => {
    const base = new URL(url);
    const sb = sandbox();
    const histories: string[] = [];
    let proxy: FaultProxy;
    const env = { ...sb.env, FK_PASSPHRASE: 'p' };
    const hostPort = `${base.hostname}:${base.port || '5672'}`;

    beforeAll(async () => {
      if (process.env.FK_TEST_CLI === undefined) assertBuilt();
      proxy = await startFaultProxy(base.hostname, Number(base.port || 5672), { watch: amqpFrameWatcher });
    });
    afterAll(async () => {
      await proxy.close();
      await deleteHistories(url, histories);
      sb.cleanup();
    }, 60_000);

    const user = (): string => {
      const u = `fk-err-${randomUUID().slice(0, 8)}@example.org`;
      histories.push(historyName(u));
      return u;
    };
    const fk = (backend: string, ...args: string[]) =>
      runNode(CLI, ['--backend', backend, '--user', user(), ...args], env);

    it('amqps:// against a plain AMQP port: says TLS is not spoken there, not OpenSSL internals', async () => {
      const r = await fk(`amqps://${base.username}:${base.password}@${hostPort}/`, 'status');
      expect(r.code).toBe(4);
      expect(fkLines(r.stderr)).toEqual([
        `fk: amqp connect to ${hostPort}/ failed: TLS handshake failed: the server does not speak TLS on this ` +
          `port (amqps:// is usually port 5671, amqp:// 5672)`,
      ]);
      expect(r.stderr).not.toMatch(/SSL routines|ssl3_/);
    });

    it('amqp:// against something that is not an AMQP server: says so', async () => {
      const notAmqp = net.createServer((s) => s.once('data', () => s.end('not amqp\n')));
      await new Promise<void>((resolve) => notAmqp.listen(0, '127.0.0.1', resolve));
      try {
        const port = (notAmqp.address() as net.AddressInfo).port;
        const r = await fk(`amqp://guest:guest@127.0.0.1:${port}/`, 'status');
        expect(r.code).toBe(4);
        expect(fkLines(r.stderr)).toEqual([
          `fk: amqp connect to 127.0.0.1:${port}/ failed: the server closed the connection during the AMQP ` +
            `handshake (is this the AMQP port of RabbitMQ?)`,
        ]);
      } finally {
        await new Promise<void>((resolve) => notAmqp.close(() => resolve()));
      }
    });

    it.each([
      ['queue.declare', 'declare queue'],
      ['basic.consume', 'consume'],
    ])('the link lost at %s: says the connection was lost during what, not "Channel ended"', async (event, op) => {
      const backend = `amqp://${base.username}:${base.password}@127.0.0.1:${proxy.port}/`;
      void proxy.cutOn('up', event, 'drop');
      const r = await fk(backend, 'backlog', 'list'); // not `status`: it only reads (a passive check)
      proxy.disarm();
      expect(r.code).toBe(4);
      const lines = fkLines(r.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(`^fk: amqp connection to 127\\.0\\.0\\.1:${proxy.port}/ lost during ${op} 'fk\\.history\\.`),
      );
      expect(r.stderr).not.toMatch(/Channel ended|no reply will be forthcoming/);
    });
  },
);

describeWith(xmppEndpoint(), 'fk on xmpp: library errors reach users as fk: messages (issue 11.7)', (ep) => {
  const sb = sandbox();
  afterAll(() => sb.cleanup());
  const fk = (backend: string) =>
    runNode(CLI, ['--backend', backend, '--user', 'a@example.org', 'status'], {
      ...sb.env,
      FK_PASSPHRASE: 'p',
      FK_XMPP_PASSWORD: 'x',
    });

  it('xmpps:// against the STARTTLS port: says TLS is not spoken there, not an OpenSSL code', async () => {
    const { host, port } = xmppHostPort(ep.service);
    const r = await fk(`xmpp://a@${ep.domain}:${port}?service=xmpps://${host}:${port}`);
    expect(r.code).toBe(4);
    expect(fkLines(r.stderr)).toEqual([
      `fk: xmpp connect to xmpps://${host}:${port} as 'a@${ep.domain}' failed: TLS handshake failed: the server ` +
        `does not speak TLS on this port (xmpps:// is direct TLS, usually port 5223; xmpp:// uses STARTTLS on 5222)`,
    ]);
  });

  it('a port where nothing listens: says the connection was refused', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await fk(`xmpp://a@${ep.domain}:${port}?service=xmpp://127.0.0.1:${port}`);
    expect(r.code).toBe(4);
    expect(fkLines(r.stderr)).toEqual([
      `fk: xmpp connect to xmpp://127.0.0.1:${port} as 'a@${ep.domain}' failed: connection refused (is the XMPP ` +
        `server running and listening there?)`,
    ]);
  });
});
