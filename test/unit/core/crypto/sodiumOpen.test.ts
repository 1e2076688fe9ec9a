import type * as Sodium from 'libsodium-wrappers-sumo';
import { createAssociatedData, createEnvelopeOpener } from '../../../../src/core/crypto/sodiumOpen';

/** The associated data as `crypto/index.ts` built it before (docs/encryption.md), allocation by allocation. */
function reference(version: number, seq: number, logId: string, user: string): Buffer {
  const log = Buffer.from(logId, 'utf8');
  const who = Buffer.from(user, 'utf8');
  const head = Buffer.alloc(1 + 8 + 4);
  head.writeUInt8(version, 0);
  head.writeBigUInt64BE(BigInt(seq), 1);
  head.writeUInt32BE(log.length, 9);
  const whoLength = Buffer.alloc(4);
  whoLength.writeUInt32BE(who.length, 0);
  return Buffer.concat([Buffer.from('fk-sodium\0', 'ascii'), head, log, whoLength, who]);
}

// The module object itself: its functions are attached to it once `ready` resolves.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sodium = require('libsodium-wrappers-sumo') as typeof Sodium;

describe('sodium envelope opening', () => {
  beforeAll(async () => {
    await sodium.ready;
  });

  it('builds the associated data byte for byte, reusing its buffer between calls', () => {
    const build = createAssociatedData('log-7f3a');
    const cases: [number, number, string][] = [
      [1, 0, 'user@local.host'],
      [1, 2 ** 32 + 5, 'jöhn@例え.jp'],
      [2, Number.MAX_SAFE_INTEGER, 'a'.repeat(200)],
      [1, 2 ** 60, ''],
      [1, 42, 'user@local.host'],
    ];
    for (const [version, seq, user] of cases) {
      expect(Buffer.from(build(version, seq, user)).equals(reference(version, seq, 'log-7f3a', user))).toBe(true);
    }
    expect(() => build(1, -1, 'u')).toThrow(/out of range/);
    expect(() => build(1, 1.5, 'u')).toThrow(/out of range/);
    expect(() => build(1, 2 ** 64, 'u')).toThrow(/out of range/);
  });

  it('calls libsodium directly, opening what the wrapper opens and refusing what it refuses', () => {
    const key = sodium.randombytes_buf(32);
    const direct = createEnvelopeOpener(sodium, key, 'log-1');
    // Without the Emscripten module (another libsodium build), the wrapper's function is used.
    const wrapped = createEnvelopeOpener({ ...sodium, libsodium: undefined } as typeof Sodium, key, 'log-1');
    expect([direct.direct, wrapped.direct]).toEqual([true, false]);
    const ad = createAssociatedData('log-1');
    for (const text of ['3, 2026-06-10 14:04:13+00:00, u@h: Tick()', 'é'.repeat(5000), '']) {
      const nonce = sodium.randombytes_buf(24);
      const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(text, ad(1, 3, 'u@h'), null, nonce, key);
      expect(direct.open(sealed, nonce, 1, 3, 'u@h')).toBe(text);
      expect(wrapped.open(sealed, nonce, 1, 3, 'u@h')).toBe(text);
      for (const opener of [direct, wrapped]) {
        expect(() => opener.open(sealed, nonce, 1, 4, 'u@h')).toThrow(); // moved to another seq
        expect(() => opener.open(sealed.subarray(0, 15), nonce, 1, 3, 'u@h')).toThrow();
      }
    }
    const nonce = sodium.randombytes_buf(24);
    const notUtf8 = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      Uint8Array.of(0xff, 0xfe),
      ad(1, 3, 'u@h'),
      null,
      nonce,
      key,
    );
    expect(() => direct.open(notUtf8, nonce, 1, 3, 'u@h')).toThrow(/not valid/);
    expect(() => wrapped.open(notUtf8, nonce, 1, 3, 'u@h')).toThrow(/not valid/);
  });
});
