import { deriveFernetKey } from '../../../src/core/crypto';
import { deriveFernetKeyOffThread, deriveSodiumKeyOffThread } from '../../../src/app/keyDerivation';

jest.setTimeout(60_000);

const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex');

/** A stream that records what is written, as a terminal or not. */
const stream = (isTTY: boolean) => {
  const writes: string[] = [];
  return { writes, isTTY, write: (s: string) => writes.push(s) };
};

describe('key derivation off the event loop (issue 11.5)', () => {
  it('derives the Argon2id key core derives, in a worker, while the event loop keeps running', async () => {
    // Vector from core's deriveSodiumKey('pass', 16 × 0x07): the worker must use the same parameters.
    const expected = '93b72c90665773bdc6e37fdf02acc156a0bbfe766e65900e18b3ae78c233ec98';
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const tty = stream(true);
    try {
      const key = await deriveSodiumKeyOffThread('pass', new Uint8Array(16).fill(7), { stream: tty });
      expect(hex(key)).toBe(expected);
    } finally {
      clearInterval(timer);
    }
    // In-thread, crypto_pwhash holds the event loop for its whole run: no timer could fire.
    expect(ticks).toBeGreaterThan(0);
    expect(tty.writes).toEqual([
      'fk: deriving the encryption key from the passphrase (once per history on this machine)…',
      '\r\x1b[K',
    ]);
  });

  it('derives the Fernet key core derives, and says nothing when stderr is not a terminal', async () => {
    const plain = stream(false);
    expect(hex(await deriveFernetKeyOffThread('correct horse', { stream: plain }))).toBe(
      hex(deriveFernetKey('correct horse')),
    );
    expect(plain.writes).toEqual([]);
  });

  it('refuses an empty passphrase as core does', async () => {
    await expect(deriveSodiumKeyOffThread('', new Uint8Array(16))).rejects.toMatchObject({ code: 'FK_KEY_INVALID' });
    await expect(deriveFernetKeyOffThread('')).rejects.toMatchObject({ code: 'FK_KEY_INVALID' });
  });
});
