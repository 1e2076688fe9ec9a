import { randomBytes } from 'node:crypto';
import { createClient } from '../../../../src/core/client';
import { manualClock } from '../../../../src/core/clock';
import {
  createFernetCipher,
  createSodiumCipher,
  formatSodiumHeader,
  type Cipher,
} from '../../../../src/core/crypto';
import {
  applyLine,
  createHistoryState,
  settleKey,
  type EngineOptions,
  type HistoryState,
} from '../../../../src/core/engine/engine';
import { replay } from '../../../../src/core/engine/replay';
import type { StrategyName } from '../../../../src/core/engine/records';
import { formatRecord } from '../../../../src/core/engine/serializer';
import { PASSPHRASE, pinnedFernetKey } from '../../../support/keys';
import { formatDate, parseInstant } from '../../../../src/core/engine/time';
import { createMemoryHub, createMemoryTransport } from '../../../../src/transports/memory';

const USER = 'alice@example.org';
const ADMIN = 'admin@local.host';
const T0 = parseInstant('2026-06-10T10:00:00Z') as number;
const MIN = 60_000_000;

/** Plain history lines, one minute apart. */
function lines(...steps: Array<[StrategyName, ...string[]] | [number, StrategyName, ...string[]]>): string[] {
  return steps.map((s, i) => {
    const [seq, rest] = typeof s[0] === 'number' ? [s[0], s.slice(1)] : [i + 1, s];
    const [name, ...params] = rest as [StrategyName, ...string[]];
    return formatRecord({ seq, when: T0 + i * MIN, user: name === 'CreateUser' ? ADMIN : USER, name, params });
  });
}

const BASE_STEPS: Array<[StrategyName, ...string[]]> = [
  ['CreateUser', USER, 'Alice'],
  ['CreateBacklog', 'b1', 'Today'],
  ['CreateWorkitem', 'w1', 'b1', 'Write'],
  ['AddPomodoro', 'w1', '1'],
];
const BASE = lines(...BASE_STEPS);

function feed(all: readonly string[], opts: EngineOptions, now = T0 + 60 * MIN): HistoryState {
  const state = createHistoryState(T0);
  for (const l of all) applyLine(state, l, opts, { now });
  return state;
}

let fernet: Cipher;
beforeAll(() => {
  fernet = createFernetCipher(pinnedFernetKey(PASSPHRASE)); // PBKDF2 480k is not what this tests
});

describe('record engine: policies', () => {
  const broken = [...BASE, ...lines([9, 'CreateBacklog', 'b2', 'Gap'])];

  it('strict: the first bad line makes the history invalid and every later line is ignored', () => {
    const s = feed([...broken, ...lines([6, 'CreateBacklog', 'b3', 'After'])], { policy: 'strict' });
    expect(s.error).toMatchObject({ code: 'FK_SEQUENCE_CONFLICT', lineNumber: 5, seq: 9 });
    expect(s.tenant.users.get(USER)?.backlogs.has('b3')).toBe(false);
  });

  it('lenient: skips and lists the failing line, notes the sequence problem, carries on', () => {
    const s = feed([...BASE, ...lines([5, 'StartTimer', 'nope', '1500', '300'], [6, 'CreateBacklog', 'b3', 'After'])], {
      policy: 'lenient',
    });
    expect(s.error).toBeNull();
    expect(s.skipped).toMatchObject([{ lineNumber: 5, reason: 'failed', error: { code: 'FK_NOT_FOUND' } }]);
    expect(s.tenant.users.get(USER)?.backlogs.has('b3')).toBe(true);
  });

  it('race: a taken number lost a race, a failing record is rejected; both ignored, counted, and the next number still fits', () => {
    const s = feed(
      [
        ...BASE,
        ...lines(
          [4, 'CreateBacklog', 'late', 'Lost'],
          [5, 'StartTimer', 'nope', '1500', '300'],
          [5, 'CreateBacklog', 'b3', 'Won'],
        ),
      ],
      { policy: 'race' },
    );
    expect(s.error).toBeNull();
    expect(s.counts).toMatchObject({ lostRaces: 1, rejected: 1 });
    expect(s.lastSeq).toBe(5);
    expect(
      s.tenant.users
        .get(USER)
        ?.backlogs.values()
        .map((b) => b.uid),
    ).toEqual(['b1', 'b3']);
  });

  it('race: a gap still makes the history invalid', () => {
    expect(feed(broken, { policy: 'race' }).error).toMatchObject({ code: 'FK_SEQUENCE_CONFLICT', lineNumber: 5 });
  });
});

describe('record engine: one encryption rule for the whole history', () => {
  const enc = (l: string, seq: number): string => fernet.encryptLine(l, { seq, user: USER });

  it('a plaintext record in a Fernet history is an error at that line, in every policy', () => {
    const mixed = [...BASE.map((l, i) => enc(l, i + 1)), ...lines([5, 'CreateBacklog', 'b2', 'Sneaked in'])];
    const strict = feed(mixed, { policy: 'strict', cipher: fernet });
    expect(strict.error).toMatchObject({
      code: 'FK_DECRYPT_FAILED',
      lineNumber: 5,
      message: 'line 5: plaintext record in a fernet history',
    });
    const lenient = feed(mixed, { policy: 'lenient', cipher: fernet });
    expect(lenient.skipped).toMatchObject([{ lineNumber: 5, error: { code: 'FK_DECRYPT_FAILED' } }]);
    expect(lenient.tenant.users.get(USER)?.backlogs.has('b2')).toBe(false);
  });

  it('a Fernet record after a plaintext first record is an error at that line (the first record fixes it)', () => {
    const mixed = [...BASE.slice(0, 2), ...BASE.slice(2).map((l, i) => enc(l, i + 3))];
    expect(() => replay(mixed, { now: T0, cipher: fernet })).toThrow(
      expect.objectContaining({ code: 'FK_DECRYPT_FAILED', lineNumber: 3 }) as Error,
    );
  });

  it("a sync server's plaintext seed (CreateUser by admin, seq 1) fixes nothing: the next record does", () => {
    const seeded = [BASE[0] as string, ...BASE.slice(1).map((l, i) => enc(l, i + 2))];
    for (const policy of ['strict', 'race'] as const) {
      const s = feed(seeded, { policy, cipher: fernet, encryption: 'fernet' });
      expect(s.error).toBeNull();
      expect(s.encryption).toBe('fernet');
      expect(s.lastSeq).toBe(4);
    }
    expect(feed(BASE, { policy: 'strict' })).toMatchObject({ error: null, encryption: 'plain' });
    const thenPlain = [...seeded, ...lines([5, 'CreateBacklog', 'b2', 'Sneaked in'])];
    expect(feed(thenPlain, { policy: 'strict', cipher: fernet }).error).toMatchObject({
      code: 'FK_DECRYPT_FAILED',
      lineNumber: 5,
    });
    // Only as the first record: a second plaintext CreateUser is an ordinary plaintext record.
    const late = [
      ...seeded,
      formatRecord({ seq: 5, when: T0, user: ADMIN, name: 'CreateUser', params: ['bob@example.org', 'Bob'] }),
    ];
    expect(feed(late, { policy: 'strict', cipher: fernet }).error).toMatchObject({
      code: 'FK_DECRYPT_FAILED',
      lineNumber: 5,
    });
  });

  it('an encrypted history without a key is FK_KEY_INVALID for the one-shot replay and the client alike', async () => {
    const stored = BASE.map((l, i) => enc(l, i + 1));
    expect(() => replay(stored, { now: T0 })).toThrow(
      expect.objectContaining({ code: 'FK_KEY_INVALID', lineNumber: 1 }) as Error,
    );
    const hub = createMemoryHub();
    const t = createMemoryTransport(hub);
    await t.connect();
    for (const l of stored) await t.publish(l, { id: l, seq: 0 });
    await t.close();
    const client = createClient({ transport: createMemoryTransport(hub), user: USER, sequencing: 'strict' });
    await client.start();
    expect(client.historyError).toMatchObject({ code: 'FK_KEY_INVALID', lineNumber: 1 });
    await client.close();
  });
});

describe('record engine: junk in a sodium history (race)', () => {
  let sodium: Cipher;
  let other: Cipher;
  beforeAll(async () => {
    sodium = await createSodiumCipher({ key: new Uint8Array(randomBytes(32)), logId: 'log-1' });
    other = await createSodiumCipher({ key: new Uint8Array(randomBytes(32)), logId: 'log-1' });
  });
  const seal = (c: Cipher, all: string[]): string[] =>
    all.map((l, i) => c.encryptLine(l, { seq: i + 1, user: i === 0 ? ADMIN : USER }));

  it('skips a record that fails authentication, reports it, and keeps going', () => {
    const good = seal(sodium, BASE);
    const junk = other.encryptLine(lines([5, 'DeleteBacklog', 'b1'])[0] as string, { seq: 5, user: USER });
    const s = feed([...good, junk, '!1 5 alice@example.org AAAA', '5, not a record at all'], {
      policy: 'race',
      cipher: sodium,
      encryption: 'sodium',
    });
    expect(settleKey(s)).toBeNull();
    expect(s.counts).toMatchObject({ unauthentic: 3, unreadable: 0 });
    expect(s.skipped.map((k) => [k.lineNumber, k.reason])).toEqual([
      [5, 'unauthentic'],
      [6, 'unauthentic'],
      [7, 'unauthentic'],
    ]);
    expect(s.tenant.users.get(USER)?.backlogs.has('b1')).toBe(true);
  });

  it('junk before the first real record is junk too, once a record authenticates', () => {
    const junk = other.encryptLine(BASE[0] as string, { seq: 1, user: ADMIN });
    const s = feed([junk, ...seal(sodium, BASE)], { policy: 'race', cipher: sodium, encryption: 'sodium' });
    expect(settleKey(s)).toBeNull();
    expect(s.skipped).toMatchObject([{ lineNumber: 1, reason: 'unauthentic' }]);
    expect(s.lastSeq).toBe(4);
  });

  it('a header key check that does not match is a wrong passphrase at once, even before any record', () => {
    const header = formatSodiumHeader({
      logId: 'log-1',
      salt: new Uint8Array(16),
      check: sodium.keyCheck?.() as string,
    });
    expect(feed([header], { policy: 'race', cipher: other, encryption: 'sodium' }).error).toMatchObject({
      code: 'FK_DECRYPT_FAILED',
      lineNumber: 1,
      message: expect.stringMatching(/^line 1: wrong passphrase: this key cannot decrypt the history/) as string,
    });
    const right = feed([header, ...seal(sodium, BASE)], { policy: 'race', cipher: sodium, encryption: 'sodium' });
    expect(right.error).toBeNull();
    expect(right.lastSeq).toBe(4);
  });

  it('a wrong passphrase (nothing authenticates) is not junk: the history is unreadable', () => {
    const s = feed(seal(sodium, BASE), { policy: 'race', cipher: other, encryption: 'sodium' });
    expect(settleKey(s)).toMatchObject({
      code: 'FK_DECRYPT_FAILED',
      message: expect.stringMatching(/^wrong passphrase: none of the 4 encrypted records/) as string,
    });
  });
});

describe('record engine: no module state, "now" per record', () => {
  const voided = lines(...BASE_STEPS, ['StartTimer', 'w1', '1500', '300'], ['AddInterruption', 'w1', 'phone', '']);
  const interruptionUid = (s: HistoryState): string | undefined =>
    s.tenant.users.get(USER)?.workitems.get('w1')?.pomodoros[0]?.interruptions[0]?.uid;

  it('two replays of one history give the same ids (no counter shared between them)', () => {
    const a = replay(voided, { now: T0 + 60 * MIN });
    const b = replay(voided, { now: T0 + 60 * MIN });
    expect(interruptionUid(a)).toBeDefined();
    expect(interruptionUid(b)).toBe(interruptionUid(a));
  });

  it('ids come from the record context when it gives them', () => {
    const s = createHistoryState(T0);
    for (const l of voided) applyLine(s, l, { policy: 'strict' }, { now: T0, newId: () => 'from-ctx' });
    expect(interruptionUid(s)).toBe('from-ctx');
  });

  it('a long-running client applies each record at the instant it arrives, not at the instant it was created', async () => {
    const hub = createMemoryHub();
    const clock = manualClock(T0);
    const daemon = createClient({ transport: createMemoryTransport(hub), user: USER, clock });
    await daemon.start();
    clock.set(T0 + 30 * 24 * 60 * MIN); // weeks later
    const writer = createClient({ transport: createMemoryTransport(hub), user: USER, clock });
    await writer.start();
    await writer.execute('CreateUser', [USER, 'Alice'], { user: ADMIN });
    await new Promise((r) => setImmediate(r));
    expect(daemon.state.tenant.users.get(USER)?.timer.lastDate).toBe(formatDate(T0 + 30 * 24 * 60 * MIN));
    await Promise.all([daemon.close(), writer.close()]);
  });
});
