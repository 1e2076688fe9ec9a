import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
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
    writeFileSync(data, '1, 2026-06-10 09:00:00+00:00, admin@local.host: CreateUser("u@x", "U")\n\x1b]0;pwned\x07\x1b[2J\x9b31m\n');
    const r = sb.fk('--file', data, 'check');
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m');
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it('error messages escape control characters of the values they quote', () => {
    expect(sb.fk('--file', data, 'backlog', 'create', 'Today').status).toBe(0);
    const r = sb.fk('--file', data, 'workitem', 'complete', '\x1b[2Jgone');
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^fk: workitem '\\x1b\[2Jgone' not found/);
    expect(r.stderr).not.toContain('\x1b');
  });

  it('fk state takes no passphrase on the command line, and says where it goes', () => {
    writeFileSync(data, '');
    for (const args of [['state', data, '--passphrase', 'hunter2'], ['state', data, '--passphrase=hunter2'], ['status', '--passphrase=hunter2']]) {
      const r = sb.fk('--file', data, ...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^fk: option '--passphrase' is not accepted: .*use FK_PASSPHRASE, FK_PASSPHRASE_FILE or --passphrase-file\n/);
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
    expect(r.stderr).toBe(`fk: warning: passphrase file '${file}' (--passphrase-file) is accessible by other users (mode 0644): run chmod 600 '${file}'\n`);
  });
});
