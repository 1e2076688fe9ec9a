import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FK, assertBuilt, sandbox } from '../support/cli';

beforeAll(assertBuilt);

describe('fk on the embedded default (a local Flowkeeper file)', () => {
  let sb: ReturnType<typeof sandbox>;
  let data: string;
  beforeEach(() => {
    sb = sandbox();
    data = join(sb.dir, 'data', 'flowkeeper', 'flowkeeper-data.txt');
  });
  afterEach(() => sb.cleanup());

  it('plans and runs a pomodoro end to end, writing Flowkeeper lines to the XDG data file', () => {
    const b = sb.fk('backlog', 'create', 'Today');
    expect(b.status).toBe(0);
    expect(sb.fk('workitem', 'add', 'Today', 'Write the report #writing', '--pomodoros', '2').status).toBe(0);
    expect(sb.fk('start', 'Write the report #writing', '--work', '25m', '--rest', '5m').stdout).toContain('Pomodoro 1');
    const status = JSON.parse(sb.fk('status', '--json').stdout) as {
      timer: { state: string; remainingSeconds: number };
    };
    expect(status.timer.state).toBe('work');
    expect(status.timer.remainingSeconds).toBeGreaterThan(1400);
    expect(sb.fk('interrupt', 'phone call', '--duration', '90s').status).toBe(0);
    expect(sb.fk('void').status).toBe(0);
    expect(sb.fk('status').stdout.trim()).toBe('idle');
    const lines = readFileSync(data, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(',')[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    expect(lines[0]).toMatch(/admin@local\.host: CreateUser\("user@local\.host", /);
    expect(lines[5]).toMatch(/AddInterruption\("[^"]+", "phone call", "90"\)$/);
    expect(sb.fk('check').status).toBe(0);
  });

  it('prints fk: <what is wrong> with the value, exits non-zero, and appends nothing on failure', () => {
    sb.fk('backlog', 'create', 'Today');
    const before = readFileSync(data, 'utf8');
    const missing = sb.fk('workitem', 'complete', 'no-such-item');
    expect(missing.status).toBe(3);
    expect(missing.stderr).toMatch(/^fk: workitem 'no-such-item' not found/);
    const bad = sb.fk('pomodoro', 'add', 'x', 'two');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("count must be a positive integer, got 'two'");
    const noPlan = sb.fk('workitem', 'add', 'Today', 'Empty');
    expect(noPlan.status).toBe(0);
    const start = sb.fk('start', 'Empty');
    expect(start.status).toBe(3);
    expect(start.stderr).toContain('has no planned pomodoro');
    const unknownFlag = sb.fk('start', 'Empty', '--wrok', '5');
    expect(unknownFlag.status).toBe(2);
    const after = readFileSync(data, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    // only the successful 'workitem add' appended (one CreateWorkitem line)
    expect(after.slice(before.length).trim().split('\n')).toHaveLength(1);
  });

  it('refuses to append to a history with a sequence gap, and check names the line', () => {
    sb.fk('backlog', 'create', 'Today');
    appendFileSync(data, '9, 2026-06-10 12:00:00+00:00, user@local.host: CreateBacklog("b9", "Gap")\n');
    const before = readFileSync(data, 'utf8');
    const r = sb.fk('backlog', 'create', 'More');
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^fk: line 3: sequence 9 after 2/);
    expect(readFileSync(data, 'utf8')).toBe(before);
    const check = sb.fk('check');
    expect(check.status).toBe(3);
    expect(check.stdout).toMatch(/:3: .*sequence 9/);
  });

  it('has --help on every command', () => {
    for (const args of [[], ['backlog'], ['workitem', 'add'], ['start'], ['status'], ['state'], ['check']]) {
      const r = sb.fk(...args, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Usage: fk/);
    }
  });

  it('reads and appends to an encrypted Flowkeeper file with the passphrase from FK_PASSPHRASE', () => {
    const fixture = readFileSync(join(__dirname, '../fixtures/oracle/enc-s01.txt'), 'utf8');
    const file = join(sb.dir, 'enc.txt');
    writeFileSync(file, fixture);
    const env = { ...sb.env, FK_PASSPHRASE: 'correct horse battery staple' };
    const run = (...a: string[]) => spawnSync(process.execPath, [FK, '--file', file, ...a], { env, encoding: 'utf8' });
    const list = run('backlog', 'list', '--json');
    expect(list.status).toBe(0);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBeGreaterThan(0);
    expect(run('backlog', 'create', 'Secret plans').status).toBe(0);
    const last = readFileSync(file, 'utf8').trim().split('\n').pop()!;
    expect(last.startsWith('+gAAAA')).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('Secret plans');
    const wrong = spawnSync(process.execPath, [FK, '--file', file, 'backlog', 'list'], {
      env: { ...sb.env, FK_PASSPHRASE: 'wrong' },
      encoding: 'utf8',
    });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/^fk: .*line 1/);
  });
});

describe('naming backlogs and workitems', () => {
  it('accepts a uid, a uid prefix, the exact name or a unique start of it, and says when a reference is ambiguous', () => {
    const sb = sandbox();
    try {
      const b = sb.fk('backlog', 'create', 'Monday').stdout.trim();
      const w1 = sb.fk('workitem', 'add', b.slice(0, 6), 'Write the report #writing', '--pomodoros', '1').stdout.trim();
      sb.fk('workitem', 'add', 'mon', 'Write the summary', '--pomodoros', '1');
      expect(sb.fk('start', 'write the r').status).toBe(0);
      const list = JSON.parse(sb.fk('workitem', 'list', '--json').stdout) as Array<{ uid: string; state: string }>;
      expect(list.find((w) => w.uid === w1)?.state).toBe('running');
      const amb = sb.fk('workitem', 'rename', 'Write', 'x');
      expect(amb.status).toBe(2);
      expect(amb.stderr).toMatch(/^fk: workitem 'Write' is ambiguous: /);
    } finally {
      sb.cleanup();
    }
  });
});
