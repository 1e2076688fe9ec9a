import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyName } from '../../src/app/historyName';
import { createFernetCipher, deriveFernetKey, type Cipher } from '../../src/core/crypto';
import { formatSeedLine } from '../../src/core/engine/seed';
import { formatRecord } from '../../src/core/engine/serializer';
import { parseInstant } from '../../src/core/engine/time';
import { createAmqpTransport } from '../../src/transports/amqp';
import { deleteHistories, readRawStream } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { FK, assertBuilt, sandbox } from '../support/cli';

/**
 * Histories a sync server (`fk serve`) writes: its plaintext seed `CreateUser`, then the protocol
 * clients' Fernet lines. `fk` reads them with the passphrase and writes Fernet lines of its own
 * (which those clients can read), on a file and on RabbitMQ alike.
 */
const PASSPHRASE = 'seeded fernet passphrase';
const T0 = parseInstant('2026-06-10T10:00:00Z') as number;

jest.setTimeout(90_000);

let fernet: Cipher;
beforeAll(() => {
  assertBuilt();
  fernet = createFernetCipher(deriveFernetKey(PASSPHRASE));
});

/** The lines a protocol client with e2e encryption on leaves after the server's seed. */
function seeded(user: string): string[] {
  const plain = [
    formatRecord({ seq: 2, when: T0 + 1_000_000, user, name: 'CreateBacklog', params: ['b1', 'Seeded plans'] }),
    formatRecord({
      seq: 3,
      when: T0 + 2_000_000,
      user,
      name: 'CreateWorkitem',
      params: ['w1', 'b1', 'Write the report'],
    }),
  ];
  return [formatSeedLine(user, 'Alice', T0), ...plain.map((l, i) => fernet.encryptLine(l, { seq: i + 2, user }))];
}

function run(sb: ReturnType<typeof sandbox>, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [FK, ...args], {
    env: { ...sb.env, FK_PASSPHRASE: PASSPHRASE, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}
const ok = (r: SpawnSyncReturns<string>): string => {
  if (r.status !== 0) throw new Error(`fk exited ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
};

describe('a seeded Fernet history in a file', () => {
  it('is read and extended in Fernet by fk', () => {
    const sb = sandbox();
    try {
      const user = 'alice@example.org';
      const file = join(sb.dir, 'alice.txt');
      writeFileSync(file, `${seeded(user).join('\n')}\n`);
      const args = ['--backend', file, '--user', user];
      expect(ok(run(sb, [...args, 'workitem', 'list']))).toContain('Write the report');
      ok(run(sb, [...args, 'workitem', 'add', 'Seeded plans', 'Read the report']));
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[3]).toMatch(/^\+/);
      expect(fernet.decryptLine(lines[3] as string)).toMatch(
        /^4, .*, alice@example\.org: CreateWorkitem\(".*", "b1", "Read the report"\)$/,
      );
      // Without the passphrase the history cannot be read.
      const denied = run(sb, [...args, 'workitem', 'list'], { FK_PASSPHRASE: '' });
      expect(denied.status).not.toBe(0);
    } finally {
      sb.cleanup();
    }
  });
});

describeWith(amqpEndpoint(), 'a seeded Fernet history on RabbitMQ', ({ url }) => {
  const histories: string[] = [];
  afterAll(() => deleteHistories(url, histories));

  it('is read and extended in Fernet by fk, which writes no sodium header', async () => {
    const user = `fk-seeded-${randomUUID().slice(0, 8)}@example.org`;
    const history = historyName(user);
    histories.push(history);
    const t = createAmqpTransport({ url, history });
    await t.connect();
    for (const line of seeded(user)) await t.publish(line, { id: randomUUID(), seq: 0 });
    await t.close();

    const sb = sandbox();
    try {
      const args = ['--backend', url, '--user', user];
      expect(ok(run(sb, [...args, 'workitem', 'list']))).toContain('Write the report');
      ok(run(sb, [...args, 'workitem', 'add', 'Seeded plans', 'Read the report']));
      const raw = await readRawStream(url, history, 3);
      expect(raw.map((m) => m.body.charAt(0))).toEqual(['1', '+', '+', '+']);
      expect(fernet.decryptLine(raw[3]?.body as string)).toMatch(
        /^4, .*, fk-seeded-.*: CreateWorkitem\(".*", "b1", "Read the report"\)$/,
      );
      // --encryption sodium is refused with a reason; another machine reads the same history.
      const sodium = run(sb, [...args, '--encryption', 'sodium', 'workitem', 'list']);
      expect(sodium.status).not.toBe(0);
      expect(sodium.stderr).toContain('Fernet');
      const other = sandbox();
      try {
        expect(ok(run(other, [...args, 'workitem', 'list']))).toContain('Read the report');
      } finally {
        other.cleanup();
      }
    } finally {
      sb.cleanup();
    }
  });
});
