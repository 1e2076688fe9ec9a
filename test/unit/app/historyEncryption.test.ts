import { detectEncryption } from '../../../src/app/historyEncryption';
import { formatSeedLine, isSeedLine, SERVED_HEADER } from '../../../src/core/engine/seed';
import { parseLine } from '../../../src/core/engine/serializer';

const SEED = formatSeedLine('alice@example.org', 'Alice', 1_780_000_000_000_000);
const PLAIN = '2, 2026-06-10 10:00:00+00:00, alice@example.org: CreateBacklog("b1", "Today")';

describe('detectEncryption', () => {
  it('the seed is a plaintext CreateUser by admin with seq 1, and does not decide', () => {
    expect(isSeedLine(SEED)).toBe(true);
    expect(parseLine(SEED, 1)).toMatchObject({
      kind: 'record',
      record: { seq: 1, user: 'admin@local.host', name: 'CreateUser', params: ['alice@example.org', 'Alice'] },
    });
    expect(detectEncryption([SEED])).toEqual({
      encryption: 'plain',
      header: null,
      seeded: true,
      served: false,
      decided: false,
    });
    expect(detectEncryption([])).toEqual({
      encryption: 'plain',
      header: null,
      seeded: false,
      served: false,
      decided: false,
    });
    expect(detectEncryption([SERVED_HEADER, SEED])).toMatchObject({ served: true, seeded: true, decided: false });
  });

  it('the first record after the seed decides', () => {
    expect(detectEncryption([SEED, '', '+gAAAAB'])).toMatchObject({
      encryption: 'fernet',
      seeded: true,
      decided: true,
    });
    expect(detectEncryption([SEED, PLAIN])).toMatchObject({ encryption: 'plain', seeded: true, decided: true });
    // A second seed-looking line is an ordinary record.
    expect(detectEncryption([SEED, SEED, '+gAAAAB'])).toMatchObject({ encryption: 'plain', decided: true });
  });

  it('a sodium header decides before any record', () => {
    const header = '# fk-sodium v1 log=l1 salt=XmUbn5JI3232J4uNilPj5Q';
    expect(detectEncryption([header, '!1 1 a AAAA'])).toMatchObject({
      encryption: 'sodium',
      decided: true,
      header: { logId: 'l1' },
    });
  });
});
