import { randomUUID } from 'node:crypto';
import type { Transport } from '../../src/core/transport';
import { historyName } from '../../src/app/historyName';
import { createAmqpTransport } from '../../src/transports/amqp';
import { historyTopology } from '../../src/transports/amqp/topology';
import { collector } from '../contract/transport.contract';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { runNode } from '../support/hang';
import { rabbitmqctl, rabbitmqctlAvailable } from '../support/rabbitmqctl';

const CLI = process.env.FK_TEST_CLI ?? FK;
jest.setTimeout(300_000);

/**
 * A retention policy that applies to exactly one history (a unique, anchored pattern, so the
 * shared broker's other queues are untouched): tiny segments and a byte limit, so the broker
 * deletes the oldest entries within a few hundred publishes.
 */
function truncatingPolicy(history: string): { clear: () => void } {
  const name = `fk-test-retention-${randomUUID().slice(0, 8)}`;
  const pattern = historyTopology(history).permissionPattern;
  rabbitmqctl(
    'set_policy',
    name,
    pattern,
    '{"max-length-bytes":20000,"stream-max-segment-size-bytes":5000}',
    '--apply-to',
    'queues',
  );
  return { clear: () => rabbitmqctl('clear_policy', name) };
}

const ctl = amqpEndpoint() !== null && rabbitmqctlAvailable();

describeWith(
  ctl ? amqpEndpoint() : null,
  'amqp: a history the broker truncated is refused, not replayed (retention)',
  ({ url }) => {
    const histories: string[] = [];
    const opened: Transport[] = [];
    const policies: Array<{ clear: () => void }> = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((t) => t.close()));
      for (const p of policies.splice(0)) p.clear();
    }, 60_000);
    afterAll(() => deleteHistories(url, histories), 60_000);

    const make = (history: string): Transport => {
      const t = createAmqpTransport({ url, history, caughtUpGraceMs: 100 });
      opened.push(t);
      return t;
    };

    /** Fills `history` (the policy was set before it was created) until the broker deleted its first entries. */
    async function truncate(history: string, writer: Transport): Promise<void> {
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            writer.publish('x'.repeat(200), { id: randomUUID(), seq: batch * 100 + i + 1 }),
          ),
        );
        const probe = make(history);
        await probe.connect();
        const c = collector();
        const first = await probe.subscribe(null, c).then(
          async (unsubscribe) => {
            // A consumer that starts at 'first' while the broker deletes that very segment can get
            // nothing until more is published (seen about once in five runs under load): undecided,
            // the next batch tells.
            const got = await c.waitFor(1, 20_000).then(
              () => true,
              () => false,
            );
            await unsubscribe();
            return got ? c.entries[0]?.position : 'silent';
          },
          () => 'refused',
        );
        if (first !== '0' && first !== 'silent') return;
      }
      throw new Error('the broker never truncated the test stream');
    }

    it('a new reader gets FK_HISTORY_INVALID naming what was lost; a reader resuming after its position reads on', async () => {
      const history = `t-${randomUUID()}`;
      histories.push(history);
      policies.push(truncatingPolicy(history)); // before the stream exists: segment size is fixed at creation
      const w = make(history);
      await w.connect();
      await truncate(history, w);
      const r = make(history);
      await r.connect();
      await expect(r.subscribe(null, collector())).rejects.toMatchObject({
        code: 'FK_HISTORY_INVALID',
        message: expect.stringMatching(/lost its first \d+ entries to the broker's retention/),
      });
      await w.publish('new', { id: randomUUID(), seq: 99_999 });
      const c = collector();
      await r.subscribe('999999', c); // a replica's position: what it has locally is whole
      await c.waitCaughtUp();
    });

    it('fk on a machine without a replica refuses the truncated history (exit 3)', async () => {
      if (process.env.FK_TEST_CLI === undefined) assertBuilt();
      const sb = sandbox();
      try {
        const user = `fk-ret-${randomUUID().slice(0, 8)}@example.org`;
        const history = historyName(user);
        histories.push(history);
        const base = new URL(url);
        const backend = `amqp://${base.username}:${base.password}@${base.host}/`;
        const fk = (...args: string[]) =>
          runNode(CLI, ['--backend', backend, '--user', user, ...args], { ...sb.env, FK_PASSPHRASE: 'r' });
        policies.push(truncatingPolicy(history));
        expect((await fk('backlog', 'create', 'kept?')).code).toBe(0);
        const w = make(history);
        await w.connect();
        await truncate(history, w);
        const other = sandbox();
        try {
          const r = await runNode(CLI, ['--backend', backend, '--user', user, 'status'], {
            ...other.env,
            FK_PASSPHRASE: 'r',
          });
          expect(r.code).toBe(3);
          expect(r.stderr).toMatch(
            /^fk: amqp stream 'fk\.history\.fk-ret-[0-9a-f]+@example\.org' lost its first \d+ entries/m,
          );
        } finally {
          other.cleanup();
        }
      } finally {
        sb.cleanup();
      }
    });
  },
);
