import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, sandbox } from '../support/cli';

beforeAll(assertBuilt);
jest.setTimeout(60_000);

/** Issue 11 item 13 (CLI parts) and issue 13 §2 "bad input": what fk prints for bad input. */
describe('fk never echoes secrets or terminal controls', () => {
  let sb: ReturnType<typeof sandbox>;
  let data: string;
  beforeEach(() => {
    sb = sandbox();
    data = join(sb.dir, 'h.txt');
  });
  afterEach(() => sb.cleanup());

  it('fk check shows escape sequences of a line as text, never raw', () => {
    writeFileSync(
      data,
      '1, 2026-06-10 09:00:00+00:00, admin@local.host: CreateUser("u@x", "U")\n\x1b]0;pwned\x07\x1b[2J\x9b31m\n',
    );
    const r = sb.fk('--file', data, 'check');
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m');
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it('error messages escape control characters of the values they quote', () => {
    const cfg = join(sb.dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ backend: join(sb.dir, '\x1b[2Jgone', 'h.txt') }));
    const r = sb.fk('--config', cfg, 'status');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fk: history file '.*\\x1b\[2Jgone\/h\.txt': directory/);
    expect(r.stderr).not.toContain('\x1b');
  });

  it('names from the history are printed with their control characters escaped', () => {
    writeFileSync(
      data,
      '1, 2026-06-10 09:00:00+00:00, admin@local.host: CreateUser("user@local.host", "U")\n' +
        '2, 2026-06-10 09:01:00+00:00, user@local.host: CreateBacklog("b1", "\x1b]0;pwned\x07Today")\n',
    );
    const r = sb.fk('--file', data, 'backlog', 'list');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07Today');
    expect(r.stdout).not.toContain('\x1b');
  });

  it('a line break or other control character in an argument is refused before anything is written', () => {
    expect(sb.fk('--file', data, 'backlog', 'create', 'Today').status).toBe(0);
    const before = readFileSync(data, 'utf8');
    const r = sb.fk('--file', data, 'backlog', 'create', 'two\nlines');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('fk: argument 1 contains a control character (\\x0a): names and texts are single lines\n');
    const i = sb.fk('--file', data, 'interrupt', 'x\ry');
    expect(i.status).toBe(2);
    expect(readFileSync(data, 'utf8')).toBe(before);
  });

  it('empty names and references are refused', () => {
    expect(sb.fk('--file', data, 'backlog', 'create', 'Today').status).toBe(0);
    expect(sb.fk('--file', data, 'workitem', 'add', 'Today', 'Only one').status).toBe(0);
    const before = readFileSync(data, 'utf8');
    for (const [args, message] of [
      [['backlog', 'create', ''], 'backlog name must not be empty'],
      [['backlog', 'create', '  '], 'backlog name must not be empty'],
      [['backlog', 'rename', 'Today', ''], 'backlog name must not be empty'],
      [['backlog', 'create', 'x', '--id', ''], "option '--id' must not be empty"],
      [['workitem', 'add', 'Today', ''], 'workitem name must not be empty'],
      [['workitem', 'rename', 'Only', ' '], 'workitem name must not be empty'],
      [['workitem', 'complete', ''], 'workitem reference must not be empty'],
      [['backlog', 'delete', ''], 'backlog reference must not be empty'],
    ] as const) {
      const r = sb.fk('--file', data, ...args);
      expect([args, r.status, r.stderr]).toEqual([args, 2, `fk: ${message}\n`]);
    }
    expect(readFileSync(data, 'utf8')).toBe(before);
  });

  it('fk state takes no passphrase on the command line, and says where it goes', () => {
    writeFileSync(data, '');
    for (const args of [
      ['state', data, '--passphrase', 'hunter2'],
      ['state', data, '--passphrase=hunter2'],
      ['status', '--passphrase=hunter2'],
    ]) {
      const r = sb.fk('--file', data, ...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(
        /^fk: option '--passphrase' is not accepted: .*use FK_PASSPHRASE, FK_PASSPHRASE_FILE or --passphrase-file\n/,
      );
      expect(r.stderr).not.toContain('hunter2');
    }
  });

  it('an unknown option is named without its value', () => {
    const r = sb.fk('--file', data, 'status', '--token=hunter2');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fk: unknown option '--token=…'/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('fk state reads an encrypted file with the passphrase from FK_PASSPHRASE or --passphrase-file', () => {
    const enc = join(__dirname, '../fixtures/oracle/enc-s01.txt');
    const file = join(sb.dir, 'pass');
    writeFileSync(file, 'correct horse battery staple\n', { mode: 0o600 });
    const viaFile = sb.fk('--passphrase-file', file, 'state', enc, '--now', '2030-01-01T00:00:00Z');
    expect(viaFile.stderr).toBe('');
    expect(viaFile.status).toBe(0);
    const r = JSON.parse(viaFile.stdout) as { users?: unknown };
    expect(r.users).toBeDefined();
    expect(readFileSync(enc, 'utf8')).toMatch(/^\+/);
  });

  it('warns on stderr about a passphrase file other users can read', () => {
    const enc = join(__dirname, '../fixtures/oracle/enc-s01.txt');
    const file = join(sb.dir, 'pass');
    writeFileSync(file, 'correct horse battery staple\n');
    chmodSync(file, 0o644);
    const r = sb.fk('--passphrase-file', file, 'state', enc, '--now', '2030-01-01T00:00:00Z');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      `fk: warning: passphrase file '${file}' (--passphrase-file) is accessible by other users (mode 0644): run ` +
        `chmod 600 '${file}'\n`,
    );
  });
});

describe('bad input never creates, loses or corrupts a history (issue 13 §2)', () => {
  let sb: ReturnType<typeof sandbox>;
  beforeEach(() => {
    sb = sandbox();
  });
  afterEach(() => sb.cleanup());

  it('a --file in a missing directory asks for --create instead of creating a new history', () => {
    const data = join(sb.dir, 'no', 'such', 'h.txt');
    const r = sb.fk('--file', data, 'backlog', 'create', 'Today');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `fk: history file '${data}': directory '${join(sb.dir, 'no', 'such')}' does not exist (pass --create to ` +
        `start a new history there)\n`,
    );
    expect(existsSync(join(sb.dir, 'no'))).toBe(false);
    const created = sb.fk('--create', '--file', data, 'backlog', 'create', 'Today');
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(readFileSync(data, 'utf8')).toContain('CreateBacklog');
  });

  it('a missing file in an existing directory is created, as the desktop app creates its own', () => {
    const data = join(sb.dir, 'new.txt');
    expect(sb.fk('--file', data, 'backlog', 'create', 'Today').status).toBe(0);
    expect(readFileSync(data, 'utf8')).toContain('CreateBacklog');
  });

  it('the default data file is created with its directories (npm start on a fresh machine)', () => {
    const r = sb.fk('status');
    expect(r.status).toBe(0);
    expect(existsSync(join(sb.dir, 'data', 'flowkeeper', 'flowkeeper-data.txt'))).toBe(true);
  });

  it('a directory, a FIFO or a device as --file is an input error, not a bug', () => {
    const fifo = join(sb.dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    for (const [path, kind] of [
      [sb.dir, 'a directory'],
      [fifo, 'a FIFO'],
      ['/dev/null', 'a character device'],
    ] as const) {
      const r = sb.fk('--file', path, 'status');
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`fk: history file '${path}' is ${kind}: give the path of a history file\n`);
    }
  });

  it('counts and durations are bounded, so a typo cannot exhaust memory or overflow an instant', () => {
    const data = join(sb.dir, 'h.txt');
    expect(sb.fk('--file', data, 'backlog', 'create', 'Today').status).toBe(0);
    expect(sb.fk('--file', data, 'workitem', 'add', 'Today', 'W').status).toBe(0);
    const before = readFileSync(data, 'utf8');
    for (const [args, message] of [
      [['pomodoro', 'add', 'W', '4294967296'], "count must be at most 1000, got '4294967296'"],
      [
        ['workitem', 'add', 'Today', 'X', '--pomodoros', '1001'],
        "option '--pomodoros' must be at most 1000, got '1001'",
      ],
      [
        ['start', 'W', '--track', '--work', '99999999999999999999'],
        "option '--work' must be at most 24h, got '99999999999999999999'",
      ],
      [['interrupt', 'x', '--duration', '25h'], "option '--duration' must be at most 24h, got '25h'"],
    ] as const) {
      const r = sb.fk('--file', data, ...args);
      expect([args, r.status, r.stderr]).toEqual([args, 2, `fk: ${message}\n`]);
    }
    expect(readFileSync(data, 'utf8')).toBe(before);
  });

  it('unknown keys in the config file are an error naming the key', () => {
    const cfg = join(sb.dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ user: 'me@x', backnd: '/tmp/x.txt' }));
    const r = sb.fk('--config', cfg, 'status');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^fk: config file '${cfg}': unknown key 'backnd' \\(known: backend, user, `));
  });
});
