import { randomUUID } from 'node:crypto';
import { historyName } from '../../src/app/historyName';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { cpuLoad, runNode } from '../support/hang';

const CLI = process.env.FK_TEST_CLI ?? FK;
jest.setTimeout(300_000);

describeWith(amqpEndpoint(), 'fk on amqp: deriving the key keeps the connection alive (issue 11.5)', ({ url }) => {
  const base = new URL(url);
  const histories: string[] = [];
  const machines: Array<ReturnType<typeof sandbox>> = [];
  afterAll(async () => {
    await deleteHistories(url, histories);
    for (const m of machines) m.cleanup();
  }, 60_000);

  it('a machine without the key derives it (Argon2id, seconds) with a 1 s heartbeat, and its command succeeds', async () => {
    const user = `fk-kdf-${randomUUID().slice(0, 8)}@example.org`;
    histories.push(historyName(user));
    const backend = `${base.protocol}//${base.username}:${base.password}@${base.host}/`;
    const machine = (extra: NodeJS.ProcessEnv) => {
      const sb = sandbox();
      machines.push(sb);
      return (...args: string[]) =>
        runNode(CLI, ['--backend', backend, '--user', user, ...args], {
          ...sb.env,
          FK_PASSPHRASE: 'kdf passphrase',
          ...extra,
        });
    };
    if (process.env.FK_TEST_CLI === undefined) assertBuilt();
    const laptop = machine({});
    expect((await laptop('backlog', 'create', 'from the laptop')).code).toBe(0);

    // A heartbeat of 1 s: RabbitMQ drops a client that sends nothing for about 2 s, far less than
    // Argon2id takes on a busy machine. The derivation must not stop the event loop.
    // Three busy processes on top make the derivation take several seconds on any machine.
    const desktop = machine({ FK_AMQP_HEARTBEAT: '1' });
    const load = cpuLoad(3);
    let r;
    try {
      r = await desktop('backlog', 'create', 'from the desktop');
    } finally {
      await load.stop();
    }
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const listed = await laptop('backlog', 'list', '--json');
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((b) => b.name).sort()).toEqual([
      'from the desktop',
      'from the laptop',
    ]);
  });
});
