import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertEncryptedLine,
  createFernetCipher,
  createSodiumCipher,
  deriveFernetKey,
  deriveSodiumKey,
  encodeFernetKey,
  encryptedFormatOf,
  findSodiumHeader,
  formatSodiumHeader,
  parseRecordBinding,
  parseSodiumHeader,
  type Cipher,
} from '../../../../src/core/crypto';
import { CryptoError, FkError } from '../../../../src/core/errors';
import { PASSPHRASE, SODIUM_SALT, pinnedFernetKey, pinnedSodiumKey } from '../../../support/keys';

const fixture = (name: string): string[] =>
  readFileSync(join(__dirname, '../../../fixtures', name), 'utf8')
    .replace(/\n$/, '')
    .split('\n');
const plainLines = fixture('gen-s01.txt');
const fernetLines = fixture('enc-s01.txt');
const WORKITEM_NAME = 'Explore automation for #Delta';

/** The error `fn` throws, so tests can assert on `code` (STYLE §9) and on what the message must not leak. */
function caught(fn: () => unknown): FkError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FkError) return err;
    throw err;
  }
  throw new Error('expected a throw');
}

function bindingOf(line: string): { seq: number; user: string } {
  const b = parseRecordBinding(line);
  if (b === null) throw new Error(`fixture line is not a record: ${line}`);
  return b;
}

/** Flips one bit of the character at `index` within the base64 alphabet so the result stays well-formed. */
function flipChar(text: string, index: number): string {
  const c = text[index];
  const replacement = c === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('format detection', () => {
  it('tells fernet, sodium and plain lines apart', () => {
    expect(encryptedFormatOf('+gAAAAAB')).toBe('fernet');
    expect(encryptedFormatOf('!1 2 user@local.host AAAA')).toBe('sodium');
    expect(encryptedFormatOf(plainLines[0]!)).toBeNull();
    expect(encryptedFormatOf('# fk-sodium v1 log=x salt=y')).toBeNull();
    expect(encryptedFormatOf('')).toBeNull();
  });

  it('reads the seq and user of a plain record', () => {
    expect(parseRecordBinding(plainLines[0]!)).toEqual({ seq: 1, user: 'admin@local.host' });
    expect(parseRecordBinding('160, 2026-06-10 18:07:52.030000+00:00, user@local.host: AddPomodoro "x"')).toEqual({
      seq: 160,
      user: 'user@local.host',
    });
    expect(parseRecordBinding('# a comment')).toBeNull();
  });

  it('rejects a plaintext record in an encrypted history, naming the line', () => {
    const err = caught(() => assertEncryptedLine(plainLines[6]!, 'fernet', 7));
    expect(err).toBeInstanceOf(CryptoError);
    expect(err.code).toBe('FK_DECRYPT_FAILED');
    expect(err.message).toBe('line 7: plaintext record in an encrypted history');
    expect((err as CryptoError).lineNumber).toBe(7);
  });

  it('rejects a record of the other format and lets comments and blank lines pass', () => {
    expect(caught(() => assertEncryptedLine(fernetLines[0]!, 'sodium', 1)).code).toBe('FK_DECRYPT_FAILED');
    expect(() => assertEncryptedLine('# fk-sodium v1 log=a salt=b', 'sodium', 1)).not.toThrow();
    expect(() => assertEncryptedLine('', 'fernet', 2)).not.toThrow();
    expect(() => assertEncryptedLine(fernetLines[0]!, 'fernet', 1)).not.toThrow();
  });
});

describe('fernet (Flowkeeper-compatible)', () => {
  const key = deriveFernetKey(PASSPHRASE);
  const cipher = createFernetCipher(key);

  it('derives the pinned key the other tests use (test/support/keys.ts)', () => {
    expect(Buffer.from(key).equals(pinnedFernetKey(PASSPHRASE))).toBe(true);
  });

  it("decrypts Flowkeeper's encrypted fixture to the plain history, line for line", () => {
    expect(fernetLines).toHaveLength(plainLines.length);
    expect(fernetLines.map((line, i) => cipher.decryptLine(line, { lineNumber: i + 1 }))).toEqual(plainLines);
  });

  it('accepts the key in its url-safe base64 text form', () => {
    const text = encodeFernetKey(key);
    expect(text).toHaveLength(44);
    expect(createFernetCipher(text).decryptLine(fernetLines[0]!)).toBe(plainLines[0]);
  });

  it('matches the fernet spec test vector (generate.json)', () => {
    const spec = createFernetCipher('cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=', {
      now: () => Date.parse('1985-10-26T01:20:00-07:00') / 1000,
      randomBytes: () => Uint8Array.from({ length: 16 }, (_, i) => i),
    });
    expect(spec.encryptLine('hello', { seq: 0, user: '' })).toBe(
      '+gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==',
    );
  });

  it('is deterministic with a pinned time and IV, and round trips every fixture line', () => {
    const pinned = (): Cipher =>
      createFernetCipher(key, { now: () => 1_781_287_200, randomBytes: (n) => new Uint8Array(n).fill(7) });
    const a = plainLines.map((l) => pinned().encryptLine(l, bindingOf(l)));
    const b = plainLines.map((l) => pinned().encryptLine(l, bindingOf(l)));
    expect(a).toEqual(b);
    expect(a.map((l) => cipher.decryptLine(l))).toEqual(plainLines);
    const token = Buffer.from(a[0]!.slice(1), 'base64url');
    expect(token[0]).toBe(0x80);
    expect(token.readBigUInt64BE(1)).toBe(1_781_287_200n);
  });

  it('uses a fresh IV per record by default, so equal lines encrypt differently', () => {
    const l = plainLines[2]!;
    expect(cipher.encryptLine(l, bindingOf(l))).not.toBe(cipher.encryptLine(l, bindingOf(l)));
  });

  it('fails with FK_DECRYPT_FAILED on a wrong passphrase, naming the line and leaking nothing', () => {
    const wrong = createFernetCipher(deriveFernetKey('incorrect horse'));
    const err = caught(() => wrong.decryptLine(fernetLines[2]!, { lineNumber: 3 }));
    expect(err.code).toBe('FK_DECRYPT_FAILED');
    expect(err.message).toMatch(/^line 3: cannot decrypt fernet record/);
    expect(err.details).toMatchObject({ pythonName: 'InvalidToken' }); // what Flowkeeper raises, for `fk state`
    for (const secret of [PASSPHRASE, encodeFernetKey(key), WORKITEM_NAME, fernetLines[2]!.slice(1, 30)]) {
      expect(err.message).not.toContain(secret);
    }
  });

  it('fails with FK_DECRYPT_FAILED on a tampered byte anywhere in the token', () => {
    const line = fernetLines[2]!;
    for (const index of [3, 15, 40, Math.floor(line.length / 2), line.length - 10]) {
      expect(caught(() => cipher.decryptLine(flipChar(line, index), { lineNumber: 3 })).code).toBe('FK_DECRYPT_FAILED');
    }
  });

  it('fails with FK_DECRYPT_FAILED on a truncated token or a malformed one', () => {
    const line = fernetLines[4]!;
    for (const broken of [line.slice(0, 60), line.slice(0, -4), '+', '+gAAAA$$', line.slice(0, -1)]) {
      const err = caught(() => cipher.decryptLine(broken, { seq: 5 }));
      expect(err.code).toBe('FK_DECRYPT_FAILED');
      expect(err.message).toMatch(/^seq 5: /);
    }
  });

  it('refuses a line of another format', () => {
    expect(caught(() => cipher.decryptLine(plainLines[0]!, { lineNumber: 1 })).message).toBe(
      'line 1: not a fernet record',
    );
  });

  it('rejects bad key material with FK_KEY_INVALID', () => {
    expect(caught(() => createFernetCipher(new Uint8Array(16))).code).toBe('FK_KEY_INVALID');
    expect(caught(() => createFernetCipher('not-a-key')).code).toBe('FK_KEY_INVALID');
    expect(caught(() => deriveFernetKey('')).code).toBe('FK_KEY_INVALID');
  });

  it('refuses to encrypt more than one line', () => {
    expect(caught(() => cipher.encryptLine('a\nb', { seq: 1, user: 'u' })).code).toBe('FK_INPUT_INVALID');
  });
});

describe('sodium (XChaCha20-Poly1305 envelope)', () => {
  const salt = SODIUM_SALT;
  const logId = 'log-7f3a';
  // Argon2id takes seconds on a busy machine: derived once below, the pinned key everywhere else.
  const key = pinnedSodiumKey(PASSPHRASE);
  let cipher: Cipher;

  beforeAll(async () => {
    cipher = await createSodiumCipher({ key, logId });
  });

  const encryptAll = (c: Cipher): string[] => plainLines.map((l) => c.encryptLine(l, bindingOf(l)));

  it('derives the pinned 32-byte key from passphrase and salt (a known-answer vector: same parameters)', async () => {
    const derived = await deriveSodiumKey(PASSPHRASE, salt);
    expect(derived).toHaveLength(32);
    expect(Buffer.from(derived).equals(key)).toBe(true);
  });

  it('round trips every fixture line, with seq and user in the clear and no plaintext', () => {
    const stored = encryptAll(cipher);
    expect(stored[2]).toMatch(/^!1 3 user@local\.host [A-Za-z0-9_-]+$/);
    expect(stored.every((l) => encryptedFormatOf(l) === 'sodium')).toBe(true);
    expect(stored.join('\n')).not.toContain(WORKITEM_NAME);
    expect(stored.join('\n')).not.toContain('CreateWorkitem');
    expect(stored.map((l, i) => cipher.decryptLine(l, { lineNumber: i + 1 }))).toEqual(plainLines);
  });

  it('is deterministic with a pinned nonce and random by default', async () => {
    const pinned = await createSodiumCipher({ key, logId, randomBytes: (n) => new Uint8Array(n).fill(9) });
    const line = plainLines[3]!;
    expect(pinned.encryptLine(line, bindingOf(line))).toBe(pinned.encryptLine(line, bindingOf(line)));
    expect(cipher.encryptLine(line, bindingOf(line))).not.toBe(cipher.encryptLine(line, bindingOf(line)));
    expect(cipher.decryptLine(pinned.encryptLine(line, bindingOf(line)))).toBe(line);
  });

  it('fails with FK_DECRYPT_FAILED on a wrong passphrase', async () => {
    const wrong = await createSodiumCipher({ key: pinnedSodiumKey('incorrect horse'), logId });
    const line = plainLines[2]!;
    const err = caught(() => wrong.decryptLine(cipher.encryptLine(line, bindingOf(line)), { lineNumber: 4 }));
    expect(err.code).toBe('FK_DECRYPT_FAILED');
    expect(err.message).toMatch(/^line 4 \(seq 3\): cannot decrypt sodium record/);
    expect(err.message).not.toContain(WORKITEM_NAME);
    expect(err.message).not.toContain(PASSPHRASE);
  });

  it('fails with FK_DECRYPT_FAILED on a tampered or truncated payload', () => {
    const line = plainLines[2]!;
    const stored = cipher.encryptLine(line, bindingOf(line));
    for (const index of [stored.length - 5, stored.length - 60, stored.indexOf(' ', 20) + 3]) {
      expect(caught(() => cipher.decryptLine(flipChar(stored, index))).code).toBe('FK_DECRYPT_FAILED');
    }
    for (const truncated of [
      stored.slice(0, -8),
      stored.slice(0, stored.lastIndexOf(' ') + 20),
      '!1 3 user@local.host',
    ]) {
      expect(caught(() => cipher.decryptLine(truncated, { lineNumber: 3 })).code).toBe('FK_DECRYPT_FAILED');
    }
  });

  it('fails when a record is moved to another seq, user or log', async () => {
    const line = plainLines[5]!;
    const stored = cipher.encryptLine(line, bindingOf(line));
    const atOtherSeq = stored.replace(/^!1 6 /, '!1 7 ');
    const byOtherUser = stored.replace(' user@local.host ', ' admin@local.host ');
    expect(atOtherSeq).not.toBe(stored);
    expect(byOtherUser).not.toBe(stored);
    expect(caught(() => cipher.decryptLine(atOtherSeq)).code).toBe('FK_DECRYPT_FAILED');
    expect(caught(() => cipher.decryptLine(byOtherUser)).code).toBe('FK_DECRYPT_FAILED');
    const otherLog = await createSodiumCipher({ key, logId: 'log-other' });
    expect(caught(() => otherLog.decryptLine(stored)).code).toBe('FK_DECRYPT_FAILED');
  });

  it('refuses to bind a record to a seq or user other than its own', () => {
    const line = plainLines[5]!;
    expect(caught(() => cipher.encryptLine(line, { seq: 99, user: 'user@local.host' })).code).toBe('FK_INPUT_INVALID');
    expect(caught(() => cipher.encryptLine(line, { seq: 6, user: 'mallory@local.host' })).code).toBe(
      'FK_INPUT_INVALID',
    );
  });

  it('refuses unknown envelope versions and other formats', () => {
    const line = plainLines[1]!;
    const v2 = cipher.encryptLine(line, bindingOf(line)).replace(/^!1 /, '!2 ');
    expect(caught(() => cipher.decryptLine(v2)).message).toMatch(/unsupported sodium envelope version 2/);
    expect(caught(() => cipher.decryptLine(fernetLines[0]!, { lineNumber: 1 })).message).toBe(
      'line 1: not a sodium record',
    );
  });

  it('seals and opens the envelopes of earlier versions byte for byte (pinned key and nonce)', async () => {
    // Sealed by the code before the associated data was built in a reused buffer and records were
    // opened without the wrapper: a large seq, non-ASCII users, a long user and an 8 KiB record.
    const pinned = await createSodiumCipher({
      key: Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 1) & 255),
      logId,
      randomBytes: (n) => Uint8Array.from({ length: n }, (_, i) => i + 100),
    });
    const long = 'x'.repeat(90) + '@local.host';
    const cases = [
      {
        plain: '1, 2026-06-10 14:04:13+00:00, user@local.host: CreateBacklog("b-1", "Today")',
        stored:
          '!1 1 user@local.host ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7AoZTY2s-urjdZValBPz1XB-g0HFdi6HSN2kJ3zONB71cp0C1oxRY' +
          'kgfXbwuDKxw6x9xuGmjDLofb43Ozp47ZV5Z9sA9S-JUNXInPQuQJJrH4Ez9ggYkr_bhTTiU',
      },
      {
        plain: '4294967301, 2026-06-10 14:04:13+00:00, jöhn@例え.jp: CreateBacklog("b-2", "Ünïcode ✓")',
        stored:
          '!1 4294967301 jöhn@例え.jp ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7B5hKZWI6u6bdYle0Buz2Xgig0mZdiKrTM2kJ2yWcQeUJ5Trp' +
          '_FsZlOoJaBa39YLyVjiHQGfxdcTz_Xm1-8n5G8Q08EAXhNgLEMLPRzpqYRPc5cMjszK5eux42O-Y73nPwD40H4aYiskjgoNl5g',
      },
      {
        plain: `7, 2026-06-10 14:04:13+00:00, ${long}: CreateBacklog("b-3", "${'long '.repeat(1200)}")`,
        sha256: '9c8f0e5188c48dec5f86642a0d1919051e24d3335ff4f464d7b4df82fbad313e',
      },
    ];
    for (const c of cases) {
      const stored = pinned.encryptLine(c.plain, bindingOf(c.plain));
      if (c.stored !== undefined) expect(stored).toBe(c.stored);
      else expect(createHash('sha256').update(stored).digest('hex')).toBe(c.sha256);
      expect(pinned.decryptLine(stored)).toBe(c.plain);
      expect(cipher.decryptLine(cipher.encryptLine(c.plain, bindingOf(c.plain)))).toBe(c.plain);
    }
    // After the long record, short ones still open (and a wrong key still fails) on the grown buffers.
    expect(pinned.decryptLine(cases[0]!.stored!)).toBe(cases[0]!.plain);
    expect(caught(() => cipher.decryptLine(cases[1]!.stored!)).code).toBe('FK_DECRYPT_FAILED');
  });

  it('rejects bad key material with FK_KEY_INVALID', async () => {
    await expect(createSodiumCipher({ key: new Uint8Array(16), logId })).rejects.toMatchObject({
      code: 'FK_KEY_INVALID',
    });
    await expect(deriveSodiumKey(PASSPHRASE, new Uint8Array(8))).rejects.toMatchObject({ code: 'FK_KEY_INVALID' });
    await expect(deriveSodiumKey('', salt)).rejects.toMatchObject({ code: 'FK_KEY_INVALID' });
    await expect(createSodiumCipher({ key, logId: 'has space' })).rejects.toMatchObject({ code: 'FK_INPUT_INVALID' });
  });
});

describe('fk-sodium header', () => {
  const salt = Uint8Array.from({ length: 16 }, (_, i) => 255 - i);

  it('round trips log id and salt through a comment line', () => {
    const line = formatSodiumHeader({ logId: 'a1b2', salt });
    expect(line).toMatch(/^# fk-sodium v1 log=a1b2 salt=[A-Za-z0-9_-]{22}$/);
    const header = parseSodiumHeader(line, 1);
    expect(header?.logId).toBe('a1b2');
    expect(Buffer.from(header!.salt).equals(salt)).toBe(true);
  });

  it('ignores other lines and rejects a malformed or unknown header with FK_KEY_INVALID', () => {
    expect(parseSodiumHeader('# just a comment')).toBeNull();
    expect(parseSodiumHeader(plainLines[0]!)).toBeNull();
    expect(caught(() => parseSodiumHeader('# fk-sodium v1 log=a1b2', 1)).code).toBe('FK_KEY_INVALID');
    const v9 = formatSodiumHeader({ logId: 'a', salt }).replace('v1', 'v9');
    expect(caught(() => parseSodiumHeader(v9, 2)).message).toBe(
      "line 2: fk-sodium header has unsupported version 'v9'",
    );
  });

  it('finds the header; the first one wins when two writers raced to create the log', () => {
    const header = formatSodiumHeader({ logId: 'a', salt });
    expect(findSodiumHeader(['', header, plainLines[0]!])?.lineNumber).toBe(2);
    expect(findSodiumHeader(plainLines)).toBeNull();
    const other = formatSodiumHeader({ logId: 'b', salt });
    expect(findSodiumHeader([header, other])).toMatchObject({ header: { logId: 'a' }, lineNumber: 1 });
    expect(findSodiumHeader([other, header])?.header.logId).toBe('b');
  });
});
