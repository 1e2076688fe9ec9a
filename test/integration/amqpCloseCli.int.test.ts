import { randomUUID } from 'node:crypto';
import { historyName } from '../../src/app/historyName';
import { amqpFrameWatcher } from '../support/amqpFrames';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy';
import { runNode, type ProcessRun } from '../support/hang';

const CLI = process.env.FK_TEST_CLI ?? FK;
jest.setTimeout(15 * 60_000);

describeWith(amqpEndpoint(), 'fk on amqp: the link cut while the command closes (issue 11.3)', ({ url }) => {
  const base = new URL(url);
  const histories: string[] = [];
  let proxy: FaultProxy;
  const sb = sandbox();

  beforeAll(async () => {
    if (process.env.FK_TEST_CLI === undefined) assertBuilt();
    proxy = await startFaultProxy(base.hostname, Number(base.port || 5672), { watch: amqpFrameWatcher });
  });
  afterAll(async () => {
    await proxy.close();
    await deleteHistories(url, histories);
    sb.cleanup();
  }, 60_000);

  const backend = (port: string): string =>
    `amqp://${base.username}:${base.password}@127.0.0.1:${port}${base.pathname === '' ? '/' : base.pathname}`;

  it('every command exits, cut at any channel close or at the connection close, and exit 0 means stored', async () => {
    const user = `fk-close-${randomUUID().slice(0, 8)}@example.org`;
    histories.push(historyName(user));
    const env = { ...sb.env, FK_PASSPHRASE: 'correct horse battery staple' };
    const direct = (...args: string[]): Promise<ProcessRun> =>
      runNode(CLI, ['--backend', backend(base.port || '5672'), '--user', user, ...args], env);
    const proxied = (...args: string[]): Promise<ProcessRun> =>
      runNode(CLI, ['--backend', backend(String(proxy.port)), '--user', user, ...args], env);

    // Set up the history (header, user, key cache, replica), then count the closes of one command.
    expect((await direct('backlog', 'create', 'first')).code).toBe(0);
    const before = proxy.events.length;
    expect((await proxied('backlog', 'list', '--json')).code).toBe(0);
    const closes = proxy.events.slice(before).filter((e) => e === 'channel.close').length;
    expect(closes).toBeGreaterThan(0);

    const cuts = [...Array.from({ length: closes }, (_, i) => `channel.close#${i + 1}`), 'connection.close'];
    const outcomes: Array<{ cut: string; name: string; r: ProcessRun }> = [];
    for (const cut of cuts) {
      const name = `b-${cut}`;
      void proxy.cutOn('up', cut, 'blackhole');
      const r = await proxied('backlog', 'create', name);
      proxy.disarm(); // a command that failed before reaching the cut leaves it armed
      outcomes.push({ cut, name, r });
    }
    const listed = await direct('backlog', 'list', '--json');
    expect(listed.code).toBe(0);
    const names = new Set((JSON.parse(listed.stdout) as Array<{ name: string }>).map((b) => b.name));
    const report = outcomes.map(({ cut, name, r }) => ({ cut, hung: r.hung, code: r.code, stored: names.has(name) }));
    // Every command ended by itself, and no exit 0 without the action in the history.
    expect(report.filter((o) => o.hung)).toEqual([]);
    expect(report.filter((o) => o.code === 0 && !o.stored)).toEqual([]);
    // The cuts at close (after the action) must not turn a success into a failure.
    // (the last channel close is the client's unsubscribe, after its action was read back)
    expect(report.slice(-2)).toMatchObject([
      { cut: `channel.close#${closes}`, code: 0, stored: true },
      { cut: 'connection.close', code: 0, stored: true },
    ]);
  });
});
