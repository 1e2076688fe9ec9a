import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFernetCipher, deriveFernetKey } from '../../src/core/crypto';
import { formatRecord } from '../../src/core/engine/serializer';
import { parseInstant } from '../../src/core/engine/time';
import { FK, assertBuilt, sandbox } from '../support/cli';

/**
 * Issue 11 item 10: one rule for every command, in the record engine. A history is plain or
 * encrypted as a whole, never mixed; any other line is an error at that line, for `fk check`,
 * `fk state` and every command that opens the history; and `fk` never appends a record of
 * another kind than the history's. Before: `fk check` passed a plaintext record in a Fernet
 * file, `fk state` applied it, `fk status` accepted a plain first line with Fernet after it, and
 * with a passphrase set `fk` appended Fernet records to a plaintext history.
 */
const CLI = process.env.FK_TEST_CLI ?? FK;
const PASSPHRASE = 'one rule for every command';
const NOW = '2026-12-01T00:00:00Z';
const USER = 'user@local.host';

jest.setTimeout(120_000);

const sb = sandbox();
const file = (name: string): string => join(sb.dir, name);
const fk = (args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [CLI, ...args], { env: { ...sb.env, ...env }, encoding: 'utf8', timeout: 60_000 });
const withKey = { FK_PASSPHRASE: PASSPHRASE };
const ok = (r: SpawnSyncReturns<string>): string => {
  if (r.status !== 0) throw new Error(`fk exited ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
};
const plainRecord = (seq: number, name: 'CreateBacklog' | 'CreateUser', ...params: string[]): string =>
  formatRecord({
    seq,
    when: parseInstant('2026-06-10T10:00:00Z') as number,
    user: name === 'CreateUser' ? 'admin@local.host' : USER,
    name,
    params,
  });

beforeAll(() => {
  if (process.env.FK_TEST_CLI === undefined) assertBuilt();
});
afterAll(() => sb.cleanup());

/** A Fernet history written by fk itself (CreateUser, CreateBacklog). */
function fernetHistory(name: string): string {
  const path = file(name);
  ok(fk(['--file', path, '--encryption', 'fernet', 'backlog', 'create', 'Secret'], withKey));
  expect(
    readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .every((l) => l.startsWith('+')),
  ).toBe(true);
  return path;
}

describe('a history is plain or encrypted as a whole, for every command', () => {
  it('a plaintext record appended to a Fernet history is an error at that line for check, state and status', () => {
    const path = fernetHistory('fernet-plus-plain.txt');
    appendFileSync(path, `${plainRecord(3, 'CreateBacklog', 'b-sneaked', 'Sneaked in')}\n`);

    const check = fk(['check', path], withKey);
    expect(check.status).toBe(3);
    expect(check.stdout).toContain(`${path}:3: line 3: plaintext record in a fernet history [FK_DECRYPT_FAILED]`);

    const state = fk(['state', path, '--now', NOW], withKey);
    expect(state.status).toBe(3);
    expect(JSON.parse(state.stdout)).toMatchObject({ line: 3 });

    const status = fk(['--file', path, 'status'], withKey);
    expect(status.status).toBe(4);
    expect(status.stderr).toMatch(/line 3: plaintext record in a fernet history/);
  });

  it('plaintext records with a Fernet record after them: an error at the first Fernet line', () => {
    // A plaintext seed CreateUser (what a sync server writes) fixes nothing; the next record does.
    const fernet = createFernetCipher(deriveFernetKey(PASSPHRASE));
    const third = plainRecord(3, 'CreateBacklog', 'b1', 'Secret');
    const path = file('plain-then-fernet.txt');
    writeFileSync(
      path,
      [
        plainRecord(1, 'CreateUser', USER, 'Local User'),
        plainRecord(2, 'CreateBacklog', 'b0', 'Plain'),
        fernet.encryptLine(third, { seq: 3, user: USER }),
      ].join('\n') + '\n',
    );
    const before = readFileSync(path, 'utf8');

    const status = fk(['--file', path, 'status'], withKey);
    expect(status.status).toBe(4);
    expect(status.stderr).toMatch(/line 3: fernet record in a plaintext history/);
    expect(fk(['--file', path, 'backlog', 'create', 'More'], withKey).status).not.toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('with a passphrase set, fk refuses to append an encrypted record to a plaintext history', () => {
    const path = file('plain.txt');
    ok(fk(['--file', path, 'backlog', 'create', 'Plain backlog']));
    const before = readFileSync(path, 'utf8');
    const r = fk(['--file', path, 'backlog', 'create', 'Would be Fernet'], withKey);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^fk: the history is plaintext and this client writes fernet-encrypted records: refusing to mix them/m,
    );
    expect(readFileSync(path, 'utf8')).toBe(before);
    // Reading it with a passphrase set is fine: the passphrase is simply not needed.
    expect(ok(fk(['--file', path, 'backlog', 'list'], withKey))).toContain('Plain backlog');
  });
});
