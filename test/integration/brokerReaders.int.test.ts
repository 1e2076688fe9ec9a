import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyName } from '../../src/app/historyName';
import { createAmqpTransport } from '../../src/transports/amqp';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith, xmppEndpoint } from '../support/brokers';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { createXmppTransport } from '../../src/transports/xmpp';
import { hostPort, registerXmppAccount } from '../support/xmppAccounts';

/**
 * Readers of a broker history, through the record engine's `race` rule:
 * - issue 11 item 4: one record that fails authentication (anyone with write permission can
 *   publish `!1 …` junk) is skipped by every reader, reported by `fk check`, and every command
 *   keeps working; a wrong passphrase is still told apart ("wrong passphrase");
 * - issue 11 (also): `fk check`, `fk state` and `fk export` accept any backend.
 */
const CLI = process.env.FK_TEST_CLI ?? FK;
const PASSPHRASE = 'readers of a broker history';
const NOW = '2026-12-01T00:00:00Z';

jest.setTimeout(120_000);

beforeAll(() => {
  if (process.env.FK_TEST_CLI === undefined) assertBuilt();
});

type Fk = (args: string[], extra?: NodeJS.ProcessEnv) => SpawnSyncReturns<string>;

/** A machine of its own (key cache, replica cache) for `user` on `backend`. */
function machine(backend: string, user: string, env: NodeJS.ProcessEnv, cleanups: Array<() => void>): Machine {
  const sb = sandbox();
  cleanups.push(sb.cleanup);
  const fk: Fk = (args, extra = {}) =>
    spawnSync(process.execPath, [CLI, '--backend', backend, '--user', user, ...args], {
      env: { ...sb.env, FK_PASSPHRASE: PASSPHRASE, ...env, ...extra },
      encoding: 'utf8',
      timeout: 60_000,
    });
  return { fk, dir: sb.dir };
}

const ok = (r: SpawnSyncReturns<string>): string => {
  if (r.status !== 0) throw new Error(`fk exited ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
};

/** The junk someone with write permission (but no key) can publish: a well-formed sodium envelope that does not authenticate. */
const junk = (seq: number, user: string): string =>
  `!1 ${seq} ${user} ${Buffer.from(randomBytes(60)).toString('base64url')}`;

interface Machine {
  readonly fk: Fk;
  readonly dir: string;
}

async function scenario(
  publishRaw: (line: string) => Promise<void>,
  laptop: Machine,
  desktop: Machine,
  user: string,
): Promise<void> {
  ok(laptop.fk(['backlog', 'create', 'Before the junk']));
  await publishRaw(junk(2, user));
  await publishRaw('!1 2 mallory@example.org AAAA');

  // Every command goes on working, on this machine (replica) and on another (fresh).
  ok(laptop.fk(['backlog', 'create', 'After the junk']));
  for (const m of [laptop, desktop]) {
    const names = (JSON.parse(ok(m.fk(['backlog', 'list', '--json']))) as Array<{ name: string }>).map((b) => b.name);
    expect(names).toEqual(['Before the junk', 'After the junk']);
  }

  // fk check names the junk by entry and exits 3; the history itself is fine.
  const check = desktop.fk(['check', '--json']);
  expect(check.status).toBe(3);
  const report = JSON.parse(check.stdout) as {
    records: number;
    ignored: Record<string, number>;
    problems: Array<{ line: number; ignored: string; code: string }>;
  };
  expect(report.ignored).toMatchObject({ unauthentic: 2, unreadable: 0 });
  expect(report.problems.map((p) => [p.ignored, p.code])).toEqual([
    ['unauthentic', 'FK_DECRYPT_FAILED'],
    ['unauthentic', 'FK_DECRYPT_FAILED'],
  ]);
  expect(report.records).toBe(3);

  // A wrong passphrase is not junk: the header's key check says so before any record is read.
  const wrong = desktop.fk(['backlog', 'list'], { FK_PASSPHRASE: 'not the passphrase' });
  expect(wrong.status).toBe(4);
  expect(wrong.stderr).toMatch(
    /^fk: line 1: wrong passphrase: this key cannot decrypt the history \(its header's key check does not match\)$/m,
  );

  // fk state and fk export read the broker too, and agree with each other.
  const state = ok(desktop.fk(['state', '--now', NOW]));
  expect(JSON.parse(state)).toMatchObject({ last_seq: 3 });
  const out = join(desktop.dir, 'exported.txt');
  ok(desktop.fk(['export', '--out', out]));
  expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(3);
  expect(ok(desktop.fk(['state', out, '--now', NOW]))).toBe(state);
}

describeWith(amqpEndpoint(), 'readers of a RabbitMQ history (race rule)', ({ url }) => {
  const histories: string[] = [];
  const cleanups: Array<() => void> = [];
  afterAll(async () => {
    await deleteHistories(url, histories);
    cleanups.forEach((c) => c());
  }, 60_000);

  it('skip junk nobody holding the key wrote, report it, keep going; check/state/export read the broker', async () => {
    const user = `fk-readers-${randomUUID().slice(0, 8)}@example.org`;
    histories.push(historyName(user));
    const u = new URL(url);
    const backend = `${u.protocol}//${u.username}@${u.host}/`;
    const env = { FK_AMQP_PASSWORD: decodeURIComponent(u.password) };
    const publishRaw = async (line: string): Promise<void> => {
      const t = createAmqpTransport({ url, history: historyName(user) });
      try {
        await t.connect();
        await t.publish(line, { id: randomUUID(), seq: 2 });
      } finally {
        await t.close();
      }
    };
    await scenario(publishRaw, machine(backend, user, env, cleanups), machine(backend, user, env, cleanups), user);
  });
  it('fk check, fk state and fk export accept a broker backend (they read it through the record engine)', () => {
    const user = `fk-readers-${randomUUID().slice(0, 8)}@example.org`;
    histories.push(historyName(user));
    const u = new URL(url);
    const m = machine(
      `${u.protocol}//${u.username}@${u.host}/`,
      user,
      { FK_AMQP_PASSWORD: decodeURIComponent(u.password) },
      cleanups,
    );
    ok(m.fk(['backlog', 'create', 'Today']));
    ok(m.fk(['workitem', 'add', 'Today', 'Write the report', '--pomodoros', '2']));
    expect(ok(m.fk(['check']))).toMatch(/^amqp:\/\/.*: ok, 5 entries, last sequence 4\n$/);
    const state = JSON.parse(ok(m.fk(['state', '--now', NOW]))) as {
      last_seq: number;
      users: Array<{ backlogs: unknown[] }>;
    };
    expect(state.last_seq).toBe(4);
    const out = join(m.dir, 'exported.txt');
    ok(m.fk(['export', '--out', out]));
    expect(ok(m.fk(['state', out, '--now', NOW]))).toBe(ok(m.fk(['state', '--now', NOW])));
  });
});

describeWith(xmppEndpoint(), 'readers of an XMPP history (race rule)', (xmpp) => {
  const cleanups: Array<() => void> = [];
  afterAll(() => cleanups.forEach((c) => c()));

  it('skip junk nobody holding the key wrote, report it, keep going; check/state/export read the broker', async () => {
    const account = await registerXmppAccount(xmpp.service, xmpp.domain, 'fkreaders');
    const { host, port } = hostPort(xmpp.service);
    const backend = `xmpp://${account.username}@${xmpp.domain}:${port}?service=xmpp://${host}:${port}`;
    // Flowkeeper's grammar wants a dotted domain in an identity: the account's JID (…@localhost) is not one.
    const user = `${account.username}@example.org`;
    const env = { FK_XMPP_PASSWORD: account.password };
    const publishRaw = async (line: string): Promise<void> => {
      const t = createXmppTransport({ service: xmpp.service, domain: xmpp.domain, ...account });
      try {
        await t.connect();
        await t.publish(line, { id: randomUUID(), seq: 2 });
      } finally {
        await t.close();
      }
    };
    await scenario(publishRaw, machine(backend, user, env, cleanups), machine(backend, user, env, cleanups), user);
  });
});
