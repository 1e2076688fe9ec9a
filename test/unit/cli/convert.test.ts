import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { register } from '../../../src/cli/commands/convert';
import { convertHistory } from '../../../src/tools/convert';
import {
  createFernetCipher,
  createSodiumCipher,
  formatSodiumHeader,
  parseRecordBinding,
  type Cipher,
} from '../../../src/core/crypto';
import { FkError } from '../../../src/core/errors';
import { PASSPHRASE, SODIUM_SALT, pinnedFernetKey, pinnedSodiumKey } from '../../support/keys';

const FIXTURES = join(__dirname, '../../fixtures');
const plainText = readFileSync(join(FIXTURES, 'gen-s01.txt'), 'utf8');
const plainLines = plainText.replace(/\n$/, '').split('\n');
const fernetLines = readFileSync(join(FIXTURES, 'enc-s01.txt'), 'utf8').replace(/\n$/, '').split('\n');
const WORKITEM_NAME = 'Explore automation for #Delta';

describe('convertHistory (core)', () => {
  const salt = SODIUM_SALT;
  const header = formatSodiumHeader({ logId: 'log-1', salt });
  let fernet: Cipher;
  let sodium: Cipher;

  beforeAll(async () => {
    // the keys are pinned: conversion is tested here, derivation in crypto.test.ts
    fernet = createFernetCipher(pinnedFernetKey(PASSPHRASE));
    sodium = await createSodiumCipher({ key: pinnedSodiumKey(PASSPHRASE), logId: 'log-1' });
  });

  it("decrypts Flowkeeper's encrypted fixture to the plain fixture", () => {
    const { lines, records } = convertHistory(fernetLines, { decrypt: { fernet }, requireEncrypted: true });
    expect(lines).toEqual(plainLines);
    expect(records).toBe(plainLines.length);
  });

  it('round trips plain → fernet → plain byte for byte, with no plaintext in between', () => {
    const encrypted = convertHistory(plainLines, { encrypt: fernet }).lines;
    expect(encrypted.every((l) => l.startsWith('+'))).toBe(true);
    expect(encrypted.join('\n')).not.toContain(WORKITEM_NAME);
    expect(convertHistory(encrypted, { decrypt: { fernet } }).lines.join('\n') + '\n').toBe(plainText);
  });

  it('round trips plain → sodium → plain byte for byte, each record bound to its own seq and user', () => {
    const encrypted = convertHistory(plainLines, { encrypt: sodium, header }).lines;
    expect(encrypted[0]).toBe(header);
    encrypted.slice(1).forEach((line, i) => {
      const own = parseRecordBinding(plainLines[i]!)!;
      expect(line.startsWith(`!1 ${own.seq} ${own.user} `)).toBe(true);
    });
    expect(encrypted.join('\n')).not.toContain(WORKITEM_NAME);
    expect(convertHistory(encrypted, { decrypt: { sodium } }).lines.join('\n') + '\n').toBe(plainText);
  });

  it('converts between the encrypted forms, keeping comments and blank lines in place', () => {
    const input = ['# exported by fk', plainLines[0]!, '', plainLines[1]!];
    const viaFernet = convertHistory(input, { encrypt: fernet }).lines;
    const viaSodium = convertHistory(viaFernet, { decrypt: { fernet }, encrypt: sodium, header }).lines;
    expect(viaSodium[1]).toBe('# exported by fk');
    expect(viaSodium[3]).toBe('');
    expect(convertHistory(viaSodium, { decrypt: { sodium } }).lines).toEqual(input);
  });

  it('rejects a plaintext record injected into an encrypted history', () => {
    const encrypted = convertHistory(plainLines.slice(0, 5), { encrypt: fernet }).lines.slice();
    encrypted.splice(3, 0, plainLines[10]!);
    expect(() => convertHistory(encrypted, { decrypt: { fernet }, requireEncrypted: true })).toThrow(
      expect.objectContaining({
        code: 'FK_DECRYPT_FAILED',
        message: 'line 4: plaintext record in an encrypted history',
      }) as unknown as Error,
    );
  });

  it('fails on an encrypted record it has no key for, and on sodium output without a header', () => {
    expect(() => convertHistory(fernetLines.slice(0, 2))).toThrow(
      expect.objectContaining({ code: 'FK_DECRYPT_FAILED' }) as unknown as Error,
    );
    expect(() => convertHistory(plainLines, { encrypt: sodium })).toThrow(
      expect.objectContaining({ code: 'FK_INPUT_INVALID' }) as unknown as Error,
    );
  });
});

describe('fk encrypt / fk decrypt', () => {
  let dir: string;
  let keyCacheDir: string;
  let stdout: string;

  beforeAll(() => {
    keyCacheDir = mkdtempSync(join(tmpdir(), 'fk-convert-keys-'));
  });
  afterAll(() => rmSync(keyCacheDir, { recursive: true, force: true }));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fk-convert-'));
    writeFileSync(join(dir, 'plain.txt'), plainText);
    stdout = '';
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function fk(env: NodeJS.ProcessEnv, ...args: string[]): Promise<void> {
    const out = new PassThrough();
    out.on('data', (c: Buffer) => (stdout += c.toString()));
    const program = new Command('fk').exitOverride();
    register(program, { env, stdout: out, stderr: new PassThrough(), stdin: new PassThrough(), keyCacheDir });
    await program.parseAsync(args, { from: 'user' });
  }
  const withPass = { FK_PASSPHRASE: PASSPHRASE };
  const p = (name: string): string => join(dir, name);
  const read = (name: string): string => readFileSync(p(name), 'utf8');

  it.each(['fernet', 'sodium'])(
    'round trips a history through %s files, leaving the input untouched',
    async (format) => {
      await fk(withPass, 'encrypt', '--in', p('plain.txt'), '--out', p('enc.txt'), '--format', format);
      expect(read('enc.txt')).not.toContain(WORKITEM_NAME);
      expect(statSync(p('enc.txt')).mode & 0o777).toBe(0o600);
      await fk(withPass, 'decrypt', '--in', p('enc.txt'), '--out', p('back.txt'));
      expect(read('back.txt')).toBe(plainText);
      expect(read('plain.txt')).toBe(plainText);
      expect(stdout).toContain(`encrypted ${plainLines.length} records`);
    },
  );

  it("decrypts Flowkeeper's fixture with the passphrase from --passphrase-file", async () => {
    writeFileSync(p('pass'), `${PASSPHRASE}\n`);
    await fk(
      {},
      'decrypt',
      '--in',
      join(FIXTURES, 'enc-s01.txt'),
      '--out',
      p('dec.txt'),
      '--passphrase-file',
      p('pass'),
    );
    expect(read('dec.txt')).toBe(plainText);
  });

  it('refuses to overwrite an existing output without --force, and never writes over the input', async () => {
    writeFileSync(p('enc.txt'), 'keep me');
    await expect(fk(withPass, 'encrypt', '--in', p('plain.txt'), '--out', p('enc.txt'))).rejects.toMatchObject({
      code: 'FK_INPUT_INVALID',
      message: `output file '${p('enc.txt')}' exists; pass --force to replace it`,
    });
    expect(read('enc.txt')).toBe('keep me');
    await fk(withPass, 'encrypt', '--in', p('plain.txt'), '--out', p('enc.txt'), '--force');
    expect(read('enc.txt').startsWith('+gAAAAA')).toBe(true);
    await expect(
      fk(withPass, 'encrypt', '--in', p('plain.txt'), '--out', p('plain.txt'), '--force'),
    ).rejects.toMatchObject({
      code: 'FK_INPUT_INVALID',
    });
    expect(read('plain.txt')).toBe(plainText);
  });

  it('fails with FK_DECRYPT_FAILED on a wrong passphrase and writes nothing', async () => {
    await fk(withPass, 'encrypt', '--in', p('plain.txt'), '--out', p('enc.txt'));
    const err = await fk({ FK_PASSPHRASE: 'wrong' }, 'decrypt', '--in', p('enc.txt'), '--out', p('dec.txt')).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FkError);
    expect((err as FkError).code).toBe('FK_DECRYPT_FAILED');
    expect((err as FkError).message).toMatch(/^line 1: /);
    expect(existsSync(p('dec.txt'))).toBe(false);
  });

  it('asks for a passphrase source when there is none', async () => {
    await expect(fk({}, 'encrypt', '--in', p('plain.txt'), '--out', p('enc.txt'))).rejects.toMatchObject({
      code: 'FK_INPUT_INVALID',
      message: expect.stringContaining('a passphrase is needed to encrypt') as unknown,
    });
  });

  it('refuses to encrypt an encrypted file or decrypt a plain one', async () => {
    await expect(
      fk(withPass, 'encrypt', '--in', join(FIXTURES, 'enc-s01.txt'), '--out', p('x.txt')),
    ).rejects.toMatchObject({
      code: 'FK_INPUT_INVALID',
    });
    await expect(fk(withPass, 'decrypt', '--in', p('plain.txt'), '--out', p('x.txt'))).rejects.toMatchObject({
      code: 'FK_INPUT_INVALID',
      message: `'${p('plain.txt')}' holds no encrypted records`,
    });
  });
});
