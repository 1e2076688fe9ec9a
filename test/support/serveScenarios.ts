import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FK, assertBuilt, sandbox } from './cli';
import { createFernetCipher, deriveFernetKey } from '../../src/core/crypto';
import { openRaw, rawLine, signInRaw } from './rawProtocol';
import {
  expectOk,
  runClient,
  startClient,
  startServe,
  type ServeProcess,
  type Step,
  type StepResult,
} from './realClient';

/** One backend under `fk serve`, as the shared scenarios need it. */
export interface ServeFixture {
  /** The `--backend` of `fk serve`. */
  readonly backend: string;
  newAccount(prefix: string): Promise<{ email: string; password: string }>;
  /** The account's history as the backend stores it (below fk serve). */
  stored(email: string): Promise<string[]>;
  /** Global options (and env) of `fk` reading that history directly. */
  fk(email: string): { args: string[]; env: NodeJS.ProcessEnv };
  exists?(email: string): Promise<boolean>;
}

export type Scenario = 'replay' | 'e2e' | 'wrong-password' | 'isolation' | 'conflict' | 'restart' | 'delete';

const PASSPHRASE = 'correct horse battery staple';

/** Client dump minus what differs between processes (`now`). */
function dumpOf(dir: string, name: string): unknown {
  const d = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
  delete d.now;
  return d;
}

const sentLines = (steps: StepResult[]): string[] => steps.flatMap((s) => s.sent ?? []);

/**
 * The protocol scenarios of issue 14, each against the real Flowkeeper client (fkclient.py): run
 * inside a `describe` whose fixture gives the backend. Waits are for events (a step, a line, a
 * close) with generous deadlines; nothing is timed.
 */
export function serveScenarios(fixture: () => ServeFixture, scenarios: readonly Scenario[]): void {
  let server: ServeProcess;
  let dir: string;
  // A scenario a backend does not run is not registered at all (no 'skipped' that looks like missing infrastructure).
  const has = (s: Scenario): ((name: string, fn: () => Promise<void>, timeout?: number) => void) =>
    scenarios.includes(s) ? it : () => undefined;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'fk-serve-'));
    server = await startServe(fixture().backend, { args: ['--auth-timeout', '5'] });
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const client = (acc: { email: string; password: string }, script: Step[], e2eKey?: string) =>
    runClient(
      { url: server.url, user: acc.email, password: acc.password, cwd: dir, ...(e2eKey ? { e2eKey } : {}) },
      script,
    );

  has('replay')(
    'two real clients: replay equals the live model, live lines fan out both ways, the server stores them as sent',
    async () => {
      const acc = await fixture().newAccount('replay');
      const opts = { url: server.url, user: acc.email, password: acc.password, cwd: dir };
      let b: ReturnType<typeof startClient> | null = null;
      const a = startClient(
        opts,
        [
          { connect: true },
          { do: 'CreateBacklog', params: ['b1', 'Today'] },
          { do: 'CreateWorkitem', params: ['w1', 'b1', 'Write tests'] },
          { do: 'AddPomodoro', params: ['w1', '2'] },
          { do: 'StartTimer', params: ['w1', '1500', '300'] },
          { ping: true },
          { dump: 'A1.json' },
          { expect_seq: 6, timeout: 180 }, // B's action, live
          { do: 'RenameBacklog', params: ['b1', 'Renamed live'] },
          { ping: true },
          { dump: 'A2.json' },
          { disconnect: true },
        ],
        (step) => {
          // B starts once A's first actions are stored; everything after is driven by what each receives.
          if (step.op === 'dump' && step.path === 'A1.json') {
            b = startClient(opts, [
              { connect: true },
              { expect_seq: 5 },
              { dump: 'B1.json' },
              { do: 'CreateWorkitem', params: ['w2', 'b1', 'From B'] },
              { ping: true },
              { expect_seq: 7, timeout: 180 }, // A's rename, live
              { dump: 'B2.json' },
              { disconnect: true },
            ]);
          }
        },
      );
      const aRun = expectOk(await a.done);
      const bRun = expectOk(await (b as unknown as ReturnType<typeof startClient>).done);
      expect(dumpOf(dir, 'B1.json')).toEqual(dumpOf(dir, 'A1.json'));
      expect(dumpOf(dir, 'B2.json')).toEqual(dumpOf(dir, 'A2.json'));
      const seqOf = (l: string): number => Number(l.split(',')[0]);
      const sent = [...sentLines(aRun.steps), ...sentLines(bRun.steps)].sort((x, y) => seqOf(x) - seqOf(y));
      const stored = await fixture().stored(acc.email);
      expect(stored[0]).toMatch(/^1, [0-9: .+-]+, admin@local\.host: CreateUser\(".+", ".*"\)$/);
      expect(stored[0]).toContain(`CreateUser("${acc.email}"`);
      expect(stored.slice(1)).toEqual(sent);
    },
    300_000,
  );

  has('e2e')(
    'end-to-end encrypted: the backend holds Fernet lines only (and the seed), a second client and fk read them',
    async () => {
      const acc = await fixture().newAccount('e2e');
      const a = expectOk(
        await client(
          acc,
          [
            { connect: true },
            { do: 'CreateBacklog', params: ['b1', 'Secret plans'] },
            { do: 'CreateWorkitem', params: ['w1', 'b1', 'Write the quokka report'] },
            { ping: true },
            { dump: 'E1.json' },
            { disconnect: true },
          ],
          PASSPHRASE,
        ),
      );
      expect(sentLines(a.steps).every((l) => l.startsWith('+'))).toBe(true);
      const stored = await fixture().stored(acc.email);
      expect(stored.slice(1)).toEqual(sentLines(a.steps));
      expect(stored.join('\n')).not.toContain('quokka');
      expectOk(
        await client(
          acc,
          [{ connect: true }, { expect_seq: 3 }, { dump: 'E2.json' }, { disconnect: true }],
          PASSPHRASE,
        ),
      );
      expect(dumpOf(dir, 'E2.json')).toEqual(dumpOf(dir, 'E1.json'));
      const { args, env } = fixture().fk(acc.email);
      const sb = sandbox();
      try {
        const r = spawnSync(process.execPath, [FK, ...args, 'workitem', 'list'], {
          env: { ...sb.env, ...env, FK_PASSPHRASE: PASSPHRASE },
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(r.stderr).toBe('');
        expect(r.stdout).toContain('Write the quokka report');
      } finally {
        sb.cleanup();
      }
      // Without the key, the real client cannot read them.
      const nokey = await client(acc, [{ connect: true, timeout: 30 }]);
      expect(nokey.code).toBe(5);
    },
    240_000,
  );

  has('wrong-password')(
    'a wrong password gets one Error (the client shows it) and nothing else',
    async () => {
      const acc = await fixture().newAccount('wrongpw');
      const r = await client({ email: acc.email, password: `${acc.password}-not` }, [{ connect: true, timeout: 30 }]);
      expect(r.code).toBe(4);
      expect(r.steps[0]?.server_error?.message).toBe(`Wrong password for user ${acc.email}`);
      // Below the client: exactly one frame until the server closes the unauthenticated socket.
      const s = await openRaw(server.url);
      s.send(rawLine(1, 'admin@local.host', 'Authenticate', [acc.email, 'basic|nope-nope', 'true']));
      s.send(rawLine(2, 'admin@local.host', 'Replay', ['0']));
      s.send(rawLine(1, 'admin@local.host', 'Ping', ['p1']));
      await s.closed;
      expect(s.frames).toBe(1);
      expect(s.lines).toEqual([
        expect.stringMatching(/^1, .*, admin@local\.host: Error\("401", "Wrong password for user /),
      ]);
      expect(await fixture().stored(acc.email)).toEqual([]);
    },
    120_000,
  );

  has('isolation')(
    'an account reaches only its own history; a line of another user is refused and not stored',
    async () => {
      const carol = await fixture().newAccount('carol');
      const dave = await fixture().newAccount('dave');
      expectOk(
        await client(carol, [
          { connect: true },
          { do: 'CreateBacklog', params: ['b1', 'Carol only'] },
          { ping: true },
          { disconnect: true },
        ]),
      );
      const s = await signInRaw(server.url, dave.email, dave.password);
      expect(s.lines.filter((l) => l !== '' && !/ReplayCompleted/.test(l))).toEqual([
        expect.stringContaining(`CreateUser("${dave.email}"`),
      ]);
      const at = s.lines.length;
      s.send(rawLine(2, carol.email, 'CreateBacklog', ['b2', 'Forged']));
      const err = await s.waitFor((l) => /: Error\(/.test(l), 'the refusal', at);
      expect(err).toMatch(/Error\("403", "Refused: a record of user /);
      s.send(rawLine(1, 'admin@local.host', 'Ping', ['after']));
      await s.waitFor((l) => /Pong\("after"/.test(l), 'Pong', at);
      s.close();
      expect((await fixture().stored(carol.email)).join('\n')).not.toContain('Forged');
      expect((await fixture().stored(dave.email)).join('\n')).not.toContain('Forged');
    },
    120_000,
  );

  /** A loser deaf (`sleep_ms` runs no event loop) from its ping until its action, while a raw winner writes seq 3. */
  async function race(acc: { email: string; password: string }, e2eKey: string | undefined, loserTail: Step[]) {
    expectOk(
      await client(
        acc,
        [{ connect: true }, { do: 'CreateBacklog', params: ['b1', 'First'] }, { ping: true }, { disconnect: true }],
        e2eKey,
      ),
    );
    const winner = await signInRaw(server.url, acc.email, acc.password);
    const cipher = e2eKey ? createFernetCipher(deriveFernetKey(e2eKey)) : null;
    const line = rawLine(3, acc.email, 'CreateBacklog', ['b8', 'Winner']);
    const at = winner.lines.length;
    let sent = false;
    const loser = startClient(
      { url: server.url, user: acc.email, password: acc.password, cwd: dir, ...(e2eKey ? { e2eKey } : {}) },
      [
        { connect: true },
        { ping: true },
        { sleep_ms: 5000 },
        { do: 'CreateBacklog', params: ['b9', 'Loser'] },
        ...loserTail,
      ],
      (step) => {
        if (step.op === 'ping' && step.step === 2 && !sent) {
          sent = true;
          winner.send(cipher ? cipher.encryptLine(line, { seq: 3, user: acc.email }) : line);
          // A Pong after it: the winner's line was handled (stored) before the loser wakes up.
          winner.send(rawLine(1, 'admin@local.host', 'Ping', ['stored']));
        }
      },
    );
    const run = await loser.done;
    await winner.waitFor((l) => /Pong\("stored"/.test(l), 'Pong', at);
    winner.close();
    return { run, line, cipher };
  }

  has('conflict')(
    'a plaintext line whose seq is taken is answered with Error and not stored',
    async () => {
      const acc = await fixture().newAccount('conflict');
      const { run, line } = await race(acc, undefined, [
        { expect_error: true, timeout: 60 },
        { ping: true },
        { disconnect: true },
      ]);
      expectOk(run);
      expect(run.steps[4]?.server_error).toMatchObject({
        code: '409',
        message: 'Sequence conflict: received 3, expected 4',
      });
      const stored = await fixture().stored(acc.email);
      expect(stored.slice(2)).toEqual([line]);
    },
    240_000,
  );

  has('conflict')(
    'racing Fernet lines are kept in arrival order: every reader keeps the first of a seq (docs/serve.md)',
    async () => {
      const acc = await fixture().newAccount('race-e2e');
      const { run, cipher } = await race(acc, PASSPHRASE, [{ ping: true }, { disconnect: true }]);
      expectOk(run);
      const stored = await fixture().stored(acc.email);
      expect(stored).toHaveLength(4);
      expect(stored.slice(1).every((l) => l.startsWith('+'))).toBe(true);
      expect(
        stored.slice(2).map((l) => cipher?.decryptLine(l).replace(/^(\d+),.*: (\w+)\("(\w+)".*$/, '$1 $2 $3')),
      ).toEqual(['3 CreateBacklog b8', '3 CreateBacklog b9']);
      // A fresh client and fk both keep the winner's record and skip the loser's.
      expectOk(await client(acc, [{ connect: true }, { dump: 'W1.json' }, { disconnect: true }], PASSPHRASE));
      const backlogs = JSON.stringify(dumpOf(dir, 'W1.json'));
      expect(backlogs).toContain('Winner');
      expect(backlogs).not.toContain('Loser');
      const { args, env } = fixture().fk(acc.email);
      const sb = sandbox();
      try {
        const r = spawnSync(process.execPath, [FK, ...args, 'backlog', 'list'], {
          env: { ...sb.env, ...env, FK_PASSPHRASE: PASSPHRASE },
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(r.stderr).toBe('');
        expect(r.stdout).toContain('Winner');
        expect(r.stdout).not.toContain('Loser');
      } finally {
        sb.cleanup();
      }
    },
    240_000,
  );

  has('restart')(
    'a client reconnects by itself after the server restarts, and syncs on',
    async () => {
      const acc = await fixture().newAccount('restart');
      let restarted: Promise<void> | null = null;
      const a = startClient(
        { url: server.url, user: acc.email, password: acc.password, cwd: dir },
        [
          { connect: true },
          { do: 'CreateBacklog', params: ['b1', 'Before'] },
          { ping: true },
          { wait_replay: true, timeout: 120 },
          { do: 'RenameBacklog', params: ['b1', 'After the restart'] },
          { ping: true },
          { dump: 'R1.json' },
          { disconnect: true },
        ],
        (step) => {
          if (step.op === 'ping' && step.step === 3) {
            restarted = (async () => {
              const port = server.port;
              await server.stop();
              server = await startServe(fixture().backend, { port, args: ['--auth-timeout', '5'] });
            })();
          }
        },
      );
      const run = expectOk(await a.done);
      await restarted;
      expect(run.steps[3]).toMatchObject({ op: 'wait_replay', ok: true, last_seq: 2 });
      expectOk(await client(acc, [{ connect: true }, { expect_seq: 3 }, { dump: 'R2.json' }, { disconnect: true }]));
      expect(dumpOf(dir, 'R2.json')).toEqual(dumpOf(dir, 'R1.json'));
    },
    240_000,
  );

  has('delete')(
    'DeleteAccount deletes the history and answers Deleted; signing in again starts afresh',
    async () => {
      const acc = await fixture().newAccount('delete');
      const r = await client(acc, [
        { connect: true },
        { do: 'CreateBacklog', params: ['b1', 'Doomed'] },
        { ping: true },
        { do: 'DeleteAccount', params: [''] },
        { expect_error: 'Deleted', timeout: 60 },
        { disconnect: true },
      ]);
      expectOk(r);
      expect(await fixture().stored(acc.email)).toEqual([]);
      const again = expectOk(await client(acc, [{ connect: true }, { dump: 'D1.json' }, { disconnect: true }]));
      expect(again.steps[0]?.last_seq).toBe(1);
    },
    180_000,
  );
}
