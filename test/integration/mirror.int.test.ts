import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyName } from '../../src/app/historyName';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith, xmppEndpoint } from '../support/brokers';
import { FK, assertBuilt } from '../support/cli';
import { desktopLine, desktopWriter, type DesktopWriter } from '../support/desktopWriter';
import { startFaultProxy } from '../support/faultProxy';
import { startFk, type FkProcess } from '../support/fkProcess';
import { waitUntil } from '../support/webhookReceiver';
import { hostPort, registerXmppAccount } from '../support/xmppAccounts';

/**
 * `fk mirror` (issue 13 §1) with real parts: a writer appending to a data file the way the
 * Flowkeeper desktop app does (its format, its own seq, no lock), the built CLI mirroring it into
 * RabbitMQ (and Prosody), a daemon on the broker history next to one on the file, and a kill -9
 * of the mirror in the middle of a burst of records. What the broker daemon forwards and what the
 * broker history exports must be exactly what the file implies.
 */
const CLI = process.env.FK_TEST_CLI ?? FK;
const PASSPHRASE = 'mirror test passphrase';
jest.setTimeout(180_000);

interface Machine {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
}
const dirs: string[] = [];
const procs: FkProcess[] = [];
function machine(extra: NodeJS.ProcessEnv = {}): Machine {
  const dir = mkdtempSync(join(tmpdir(), 'fk-mirror-int-'));
  dirs.push(dir);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    FK_PASSPHRASE: PASSPHRASE,
    ...extra,
  };
  return { dir, env };
}
function start(m: Machine, args: readonly string[]): FkProcess {
  const p = startFk(CLI, args, m.env);
  procs.push(p);
  return p;
}
function fk(m: Machine, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { env: m.env, encoding: 'utf8', timeout: 120_000 });
}
/** The history as `fk export` writes it (renumbered, fk's line format): equal histories export equal files. */
function exported(m: Machine, source: readonly string[], from?: string): string {
  const out = join(m.dir, `export-${randomUUID()}.txt`);
  const r = fk(m, [...source, 'export', '--out', out, ...(from === undefined ? [] : ['--from', from])]);
  if (r.status !== 0) throw new Error(`export failed: ${r.stderr}`);
  return readFileSync(out, 'utf8');
}
/** Ids of the notifications a daemon forwarded on stdout (its own daemon.* events left out). */
function eventIds(d: FkProcess): string[] {
  return d.out
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { id: string; type: string })
    .filter((e) => !e.type.startsWith('daemon.'))
    .map((e) => e.id)
    .sort();
}
const hasEvent = (d: FkProcess, type: string, pomodoro: string): boolean =>
  d.out.some((l) => l.includes(`"type":"${type}"`) && l.includes(`"pomodoro":"${pomodoro}"`));

beforeAll(() => {
  if (process.env.FK_TEST_CLI === undefined) assertBuilt();
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function plan(w: DesktopWriter, user: string): void {
  w.append('admin@local.host', 'CreateUser', user, 'Alice');
  w.append(user, 'CreateBacklog', 'b1', 'Today');
  w.append(user, 'CreateWorkitem', 'w1', 'b1', 'Write the "report"');
  w.append(user, 'AddPomodoro', 'w1', '3');
}

describeWith(amqpEndpoint(), 'fk mirror to RabbitMQ', ({ url }) => {
  const base = new URL(url);
  const backend = `${base.protocol}//${base.username}:${base.password}@${base.host}${base.pathname === '' ? '/' : base.pathname}`;
  const histories: string[] = [];
  afterAll(async () => deleteHistories(url, histories), 60_000);
  const newUser = (): string => {
    const user = `fk-mirror-${randomUUID().slice(0, 8)}@example.org`;
    histories.push(historyName(user));
    return user;
  };

  const title =
    'copies a live desktop file exactly, through a kill -9 of the mirror, and a daemon on the broker forwards what the file implies';
  it(title, async () => {
    const user = newUser();
    const desk = machine();
    const file = join(desk.dir, 'flowkeeper-data.txt');
    const w = desktopWriter(file);
    plan(w, user);
    const on = {
      file: ['--file', file, '--user', user, '--encryption', 'off'],
      broker: ['--backend', backend, '--user', user],
    };
    const daemonArgs = ['daemon', '--stdout', '--late', 'send', '--http', 'off'];
    const fileDaemon = start(machine({ FK_PASSPHRASE: '' }), [...on.file, ...daemonArgs]);
    await fileDaemon.logged('daemon ready');

    const mirrorArgs = ['--user', user, 'mirror', '--from', file, '--to', backend];
    let mirror = start(desk, mirrorArgs);
    await mirror.logged('mirror caught up', (l) => l.records === 4);
    const brokerDaemon = start(machine(), [...on.broker, ...daemonArgs, '--http', '127.0.0.1:0']);
    await brokerDaemon.logged('daemon ready');
    const port = Number((await brokerDaemon.logged('http listening')).port);
    const brokerSeq = async (): Promise<number> =>
      ((await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { users: Array<{ lastSeq: number }> })
        .users[0]?.lastSeq ?? 0;

    // Pomodoro 1 (2 s work, 1 s rest), then a burst of records; the mirror is killed in the middle.
    w.append(user, 'StartTimer', 'w1', '2', '1');
    const burstStart = w.seq;
    let killed = -1;
    for (let i = 0; i < 150; i++) {
      w.append(user, 'RenameWorkitem', 'w1', `Write the "report" (${i})`);
      await new Promise((r) => setTimeout(r, 4));
      if (killed < 0 && i >= 30 && (await brokerSeq()) > burstStart) {
        mirror.child.kill('SIGKILL');
        killed = await brokerSeq();
      }
    }
    if (killed < 0) {
      mirror.child.kill('SIGKILL');
      killed = await brokerSeq();
    }
    await mirror.exited;
    await waitUntil(() => hasEvent(fileDaemon, 'rest.finished', 'Pomodoro 1'), 'pomodoro 1 rang on the file', 60_000);
    w.append(user, 'AddPomodoro', 'w1', '1'); // written while the mirror was down

    mirror = start(desk, mirrorArgs);
    await mirror.logged('mirror caught up', (l) => l.records === w.seq);
    // The next pomodoro voided in its work; the one after runs to its end.
    w.append(user, 'StartTimer', 'w1', '2', '1');
    w.append(user, 'AddInterruption', 'w1', 'phone', '30');
    w.append(user, 'StopTimer', '', '');
    w.append(user, 'StartTimer', 'w1', '2', '1');
    // 3 events for pomodoro 1; the void (interruption, void) and the restarted pomodoro's 3.
    const rests = (d: FkProcess): number => d.out.filter((l) => l.includes('"type":"rest.finished"')).length;
    await waitUntil(() => rests(fileDaemon) === 2, 'the last pomodoro rang on the file', 60_000);
    await waitUntil(() => rests(brokerDaemon) === 2, 'the last pomodoro rang on the broker', 60_000);

    expect(killed).toBeLessThan(w.seq); // the kill left records to copy after the restart
    expect(eventIds(brokerDaemon)).toEqual(eventIds(fileDaemon));
    expect(eventIds(fileDaemon).filter((id) => /work\.finished|rest\.finished|pomodoro\.voided/.test(id))).toHaveLength(
      5,
    );
    expect(eventIds(fileDaemon)).toHaveLength(9);
    const reader = machine();
    expect(exported(reader, on.broker)).toBe(exported(reader, ['--encryption', 'off'], file));
    expect(await mirror.stop()).toBe(0);
  });

  it('goes on where it was when the broker comes back, neither duplicating nor skipping a record', async () => {
    const proxy = await startFaultProxy(base.hostname, Number(base.port || 5672));
    try {
      const viaProxy = `${base.protocol}//${base.username}:${base.password}@127.0.0.1:${proxy.port}/`;
      const user = newUser();
      const desk = machine();
      const file = join(desk.dir, 'flowkeeper-data.txt');
      const w = desktopWriter(file);
      plan(w, user);
      const mirror = start(desk, ['--user', user, 'mirror', '--from', file, '--to', viaProxy]);
      await mirror.logged('mirror caught up', (l) => l.records === 4);
      proxy.refuse = true; // the broker is down
      proxy.dropAll();
      for (let i = 0; i < 5; i++)
        w.append(user, 'CreateBacklog', `down-${i}`, `Written while the broker was down ${i}`);
      await mirror.logged('broker unavailable; copying resumes when it is back');
      proxy.refuse = false;
      await mirror.logged('mirror caught up', (l) => l.records === 9);
      w.append(user, 'RenameBacklog', 'down-0', 'after the outage');
      await mirror.logged('mirror caught up', (l) => l.records === 10);
      const reader = machine();
      expect(exported(reader, ['--backend', backend, '--user', user])).toBe(
        exported(reader, ['--encryption', 'off'], file),
      );
      expect(await mirror.stop()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('copies a desktop file the app encrypts (Fernet), with the same passphrase', async () => {
    const user = newUser();
    const desk = machine();
    const plain = join(desk.dir, 'plain.txt');
    const file = join(desk.dir, 'flowkeeper-data.txt');
    plan(desktopWriter(plain), user);
    expect(fk(desk, ['encrypt', '--in', plain, '--out', file]).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^\+gAAAA/);
    const mirror = start(desk, ['--user', user, 'mirror', '--from', file, '--to', backend]);
    await mirror.logged('mirror caught up', (l) => l.records === 4);
    // the app appends an encrypted record (fk writes them the same way)
    expect(fk(desk, ['--file', file, '--user', user, 'backlog', 'create', 'Encrypted too']).status).toBe(0);
    await mirror.logged('mirror caught up', (l) => l.records === 5);
    const reader = machine();
    expect(exported(reader, ['--backend', backend, '--user', user])).toBe(exported(reader, [], file));
    expect(await mirror.stop()).toBe(0);
  });

  const stops =
    'stops (exit 3) when the file was rewritten by a desktop repair, while running or while stopped, and when another writer used the broker history';
  it(stops, async () => {
    const user = newUser();
    const desk = machine();
    const file = join(desk.dir, 'flowkeeper-data.txt');
    const w = desktopWriter(file);
    plan(w, user);
    const mirrorArgs = ['--user', user, 'mirror', '--from', file, '--to', backend];
    let mirror = start(desk, mirrorArgs);
    await mirror.logged('mirror caught up', (l) => l.records === 4);
    expect(await mirror.stop()).toBe(0);

    // A repair while it was stopped: the file renamed to a backup, a renumbered one written.
    const original = readFileSync(file, 'utf8');
    renameSync(file, `${file}-backup-1`);
    const T = Date.now();
    const repaired = [
      desktopLine(1, T, 'admin@local.host', 'CreateUser', [user, 'A']),
      desktopLine(2, T, user, 'CreateBacklog', ['b2', 'x']),
      desktopLine(3, T, user, 'CreateBacklog', ['b3', 'x']),
    ];
    writeFileSync(file, `${repaired.join('\n')}\n`);
    const refused = fk(desk, mirrorArgs);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/^fk: the desktop file '.*' was rewritten since 4 of its records were copied/m);

    // Back to the original; a repair while it runs.
    writeFileSync(file, original);
    mirror = start(desk, mirrorArgs);
    await mirror.logged('mirror caught up', (l) => l.records === 4);
    renameSync(file, `${file}-backup-2`);
    writeFileSync(file, `${original}${desktopLine(5, Date.now(), user, 'CreateBacklog', ['b5', 'y'])}\n`);
    expect(await mirror.exited).toBe(3);
    expect(
      mirror.logs.some((l) => typeof l.msg === 'string' && /was replaced by another file/.test(JSON.stringify(l))),
    ).toBe(true);

    // Another writer on the broker history: a record the file does not have.
    writeFileSync(file, original);
    const other = machine();
    expect(fk(other, ['--backend', backend, '--user', user, 'backlog', 'create', 'Not from the desktop']).status).toBe(
      0,
    );
    const diverged = fk(desk, mirrorArgs);
    expect(diverged.status).toBe(3);
    expect(diverged.stderr).toMatch(
      /^fk: the histories diverged: the broker history has 5 records and the file only 4/m,
    );
    // Nothing was copied meanwhile: the broker still holds the 4 records and the foreign one.
    expect(exported(other, ['--backend', backend, '--user', user]).trim().split('\n')).toHaveLength(5);
  });
});

describeWith(xmppEndpoint(), 'fk mirror to XMPP', (xmpp) => {
  it('copies a live desktop file into an account archive', async () => {
    const account = await registerXmppAccount(xmpp.service, xmpp.domain, 'fkmirror');
    const { host, port } = hostPort(xmpp.service);
    const backend = `xmpp://${account.username}@${xmpp.domain}:${port}?service=xmpp://${host}:${port}`;
    const user = `${account.username}@example.org`;
    const desk = machine({ FK_XMPP_PASSWORD: account.password });
    const file = join(desk.dir, 'flowkeeper-data.txt');
    const w = desktopWriter(file);
    plan(w, user);
    const mirror = start(desk, ['--user', user, 'mirror', '--from', file, '--to', backend]);
    await mirror.logged('mirror caught up', (l) => l.records === 4);
    w.append(user, 'StartTimer', 'w1', '1500', '300');
    w.append(user, 'AddInterruption', 'w1', 'a question', '');
    await mirror.logged('mirror caught up', (l) => l.records === 6);
    expect(exported(desk, ['--backend', backend, '--user', user])).toBe(exported(desk, ['--encryption', 'off'], file));
    expect(await mirror.stop()).toBe(0);
  });
});

describe('fk mirror input', () => {
  it('refuses a missing file, a file as the target, --backend, and explains itself in --help', () => {
    const m = machine();
    const file = join(m.dir, 'flowkeeper-data.txt');
    const missing = fk(m, ['mirror', '--from', file, '--to', 'amqp://guest@127.0.0.1/']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^fk: option '--from': cannot read '.*flowkeeper-data\.txt': ENOENT/);
    writeFileSync(file, `${desktopLine(1, Date.now(), 'admin@local.host', 'CreateUser', ['a@example.org', 'A'])}\n`);
    const toFile = fk(m, ['mirror', '--from', file, '--to', join(m.dir, 'copy.txt')]);
    expect(toFile.status).toBe(2);
    expect(toFile.stderr).toMatch(/^fk: option '--to' must be a broker history \(amqp:\/\/… or xmpp:\/\/…\)/);
    const both = fk(m, ['--file', file, 'mirror', '--from', file, '--to', 'amqp://guest@127.0.0.1/']);
    expect([both.status, both.stderr]).toEqual([
      2,
      expect.stringMatching(/^fk: fk mirror takes its histories from --from and --to/),
    ]);
    expect(fk(m, ['mirror', '--to', 'amqp://guest@127.0.0.1/']).status).toBe(2);
    const help = fk(m, ['mirror', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/FK_HISTORY_DIVERGED/);
    expect(help.stdout).toMatch(/Only this direction/);
  });
});
