import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { historyName } from '../../src/app/session';
import { historyTopology } from '../../src/transports/amqp/topology';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { buildCli, runCli, type CliRun } from '../support/buildCli';

/**
 * `fk migrate` against the real RabbitMQ: file → amqp (sodium) → file (Fernet), with the final
 * state compared at every step, a refused non-empty target, and `fk stats` / `fk export` reading
 * the broker history. Every test uses its own user (its own stream queue), deleted afterwards.
 */
jest.setTimeout(120_000);
const HOOK_TIMEOUT = 240_000;
const ORACLE = join(__dirname, '../fixtures/oracle');
const PASSPHRASE = 'migrate test passphrase';
const NOW = ['--now', '2030-01-01T00:00:00Z'];

describeWith(amqpEndpoint(), 'fk migrate with RabbitMQ', ({ url }) => {
  let build: ReturnType<typeof buildCli>;
  let dir: string;
  const users: string[] = [];
  const fk = (args: readonly string[], env: Record<string, string> = {}): CliRun =>
    runCli(build.main, args, { FK_PASSPHRASE: PASSPHRASE, ...env }, dir);
  const freshUser = (): string => {
    const u = `mig-${randomUUID()}@test.org`; // Flowkeeper's grammar wants a dotted domain
    users.push(u);
    return u;
  };
  const state = (file: string, extra: readonly string[] = []): unknown => {
    const r = fk(['state', file, ...NOW, ...extra]);
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout);
  };

  beforeAll(() => {
    build = buildCli(['cli/commands/migrate.js', 'transports/amqp/index.js']);
    dir = mkdtempSync(join(tmpdir(), 'fk-migrate-'));
  }, HOOK_TIMEOUT);

  afterAll(async () => {
    build?.cleanup();
    rmSync(dir, { recursive: true, force: true });
    const conn = await amqp.connect(url);
    try {
      const ch = await conn.createChannel();
      for (const u of users) {
        const { queue, exchange } = historyTopology(historyName(u));
        await ch.deleteQueue(queue);
        await ch.deleteExchange(exchange);
      }
    } finally {
      await conn.close();
    }
  }, HOOK_TIMEOUT);

  it('copies file → amqp (sodium) → file (Fernet) with the same final state, and refuses a non-empty target', () => {
    const user = freshUser();
    const src = join(dir, 'src.txt');
    copyFileSync(join(ORACLE, 'fixture-random.txt'), src);
    const up = fk(['--user', user, 'migrate', '--from', src, '--to', url, ...NOW]);
    expect(up.status).toBe(0);
    expect(up.stdout).toMatch(
      /^migrated 2659 records from .* \(plain\) to 'amqp:\/\/.*' \(sodium\) .*verified identical/,
    );
    expect(up.stdout).not.toContain('guest:guest'); // credentials never printed

    const again = fk(['--user', user, 'migrate', '--from', src, '--to', url]);
    expect(again.status).toBe(3);
    expect(again.stderr).toContain('already holds 2659 records');

    const down = fk(['--user', user, 'migrate', '--from', url, '--to', join(dir, 'back.txt'), ...NOW]);
    expect(down.status).toBe(0);
    expect(down.stdout).toMatch(/\(sodium\) to '.*back.txt' \(fernet\)/);
    expect(readFileSync(join(dir, 'back.txt'), 'utf8').startsWith('+')).toBe(true);
    expect(state(join(dir, 'back.txt'))).toEqual(state(src)); // FK_PASSPHRASE is set for every run
  });

  it('migrates into an unencrypted broker history, and the tools read it back from the broker', () => {
    const user = freshUser();
    const src = join(dir, 'hand.txt');
    writeFileSync(
      src,
      readFileSync(join(__dirname, '../fixtures/tools/stats-hand.txt'), 'utf8').replaceAll('alice@example.org', user),
    );
    const up = fk(['--user', user, 'migrate', '--from', src, '--to', url, '--to-encryption', 'off', ...NOW], {
      FK_PASSPHRASE: '',
    });
    expect(up.status).toBe(0);
    expect(up.stdout).toContain('(plain)');

    const stats = fk(['--user', user, '--backend', url, 'stats', '--json', ...NOW]);
    expect(stats.status).toBe(0);
    // 2 interruptions: completing a workitem that has a tracker pomodoro adds none (Flowkeeper's rule, issue 10).
    expect(JSON.parse(stats.stdout)).toMatchObject({
      total: { pomodoros: 3, focusSeconds: 4200, trackers: 1, interruptions: 2, voided: 2 },
    });

    const exported = fk([
      '--user',
      user,
      '--backend',
      url,
      'export',
      '--out',
      join(dir, 'exported.txt'),
      '--compact',
      ...NOW,
    ]);
    expect(exported.status).toBe(0);
    const a = state(join(dir, 'exported.txt')) as { last_seq?: number };
    const b = state(src) as { last_seq?: number };
    delete a.last_seq;
    delete b.last_seq;
    expect(a).toEqual(b);
  });
});
