import type * as Sodium from 'libsodium-wrappers-sumo';
import { TextDecoder } from 'node:util';

/**
 * @internal
 * Opening sodium envelopes (XChaCha20-Poly1305-IETF) fast enough for a 100k-record replay.
 *
 * libsodium-wrappers' `crypto_aead_xchacha20poly1305_ietf_decrypt` mallocs and frees five
 * buffers in the WebAssembly heap per call and copies the result out: about half of a record's
 * decryption. This calls the same libsodium function (`sodium.libsodium`, the Emscripten module
 * the wrapper itself calls, with the wrapper's own arguments) on one scratch block reused by every
 * call, and decodes the plaintext from the heap. The scratch block holds the key, nonce,
 * associated data, ciphertext and plaintext of one call at a time; key and plaintext are wiped
 * before the call returns. Used only after a self-test at creation (a sealed probe opens, a
 * tampered one does not); otherwise, or on a libsodium build whose function does not take the
 * expected arguments, the wrapper's function is used as before.
 *
 * The associated data (`createAssociatedData`, used to seal as well) is built in a reused buffer,
 * not in five allocations and a BigInt per record.
 */
export interface EnvelopeOpener {
  /**
   * The plaintext of `sealed` (ciphertext ‖ tag) under `nonce`, bound to `version`, `seq` and
   * `user`. Throws on authentication failure or invalid UTF-8 (the caller turns that into
   * `FK_DECRYPT_FAILED`).
   */
  open(sealed: Uint8Array, nonce: Uint8Array, version: number, seq: number, user: string): string;
  /** True when it calls libsodium directly; false when through the wrapper. */
  readonly direct: boolean;
}

/** The parts of the Emscripten module this uses (see the wrapper's own call in `G(…)`). */
interface RawSodium {
  readonly HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  /** (m, mlen_p, nsec, c, clen low, clen high, ad, adlen low, adlen high, npub, k) → 0 or -1. */
  _crypto_aead_xchacha20poly1305_ietf_decrypt(...args: number[]): number;
}

const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const AD_DOMAIN = Buffer.from('fk-sodium\0', 'ascii');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Per sodium module instance: its scratch block, and whether it passed the self-test. */
const modules = new WeakMap<RawSodium, { ptr: number; size: number; usable: boolean }>();

export function createEnvelopeOpener(sodium: typeof Sodium, key: Uint8Array, logId: string): EnvelopeOpener {
  const ad = createAssociatedData(logId);
  const raw = usableRaw(sodium);
  return {
    open(sealed, nonce, version, seq, user) {
      const data = ad(version, seq, user);
      return raw === null ? openWrapped(sodium, key, data, sealed, nonce) : openDirect(raw, key, data, sealed, nonce);
    },
    direct: raw !== null,
  };
}

/**
 * @internal
 * A builder of the associated data of `logId`'s records:
 * "fk-sodium\0" ‖ version (u8) ‖ seq (u64 BE) ‖ len(logId) (u32 BE) ‖ logId ‖ len(user) (u32 BE) ‖ user.
 * Length prefixes make the encoding injective, so no two (log, user) pairs share an AD. The result
 * is a view of a buffer the next call overwrites: use it before building another.
 */
export function createAssociatedData(logId: string): (version: number, seq: number, user: string) => Uint8Array {
  const log = Buffer.from(logId, 'utf8');
  const seqAt = AD_DOMAIN.length + 1;
  const userAt = seqAt + 8 + 4 + log.length + 4;
  let buf = Buffer.alloc(0);
  const grow = (size: number): void => {
    buf = Buffer.alloc(size);
    AD_DOMAIN.copy(buf, 0);
    buf.writeUInt32BE(log.length, seqAt + 8);
    log.copy(buf, seqAt + 12);
  };
  grow(userAt + 64);
  return (version, seq, user) => {
    if (!Number.isInteger(seq) || seq < 0) throw new RangeError(`seq out of range: ${seq}`); // ≥ 2^64: below
    const userLength = Buffer.byteLength(user, 'utf8');
    if (userAt + userLength > buf.length) grow(userAt + 2 * userLength);
    buf.writeUInt8(version, AD_DOMAIN.length);
    const high = Math.floor(seq / 2 ** 32);
    buf.writeUInt32BE(high, seqAt);
    buf.writeUInt32BE(seq - high * 2 ** 32, seqAt + 4);
    buf.writeUInt32BE(userLength, userAt - 4);
    buf.write(user, userAt, 'utf8');
    return buf.subarray(0, userAt + userLength);
  };
}

function openWrapped(
  sodium: typeof Sodium,
  key: Uint8Array,
  ad: Uint8Array,
  sealed: Uint8Array,
  nonce: Uint8Array,
): string {
  return utf8.decode(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, ad, nonce, key));
}

function openDirect(raw: RawSodium, key: Uint8Array, ad: Uint8Array, sealed: Uint8Array, nonce: Uint8Array): string {
  const mlen = sealed.length - TAG_BYTES;
  if (mlen < 0) throw new Error('ciphertext is too short');
  const k = scratch(raw, KEY_BYTES + NONCE_BYTES + ad.length + sealed.length + mlen);
  const n = k + KEY_BYTES;
  const a = n + NONCE_BYTES;
  const c = a + ad.length;
  const m = c + sealed.length;
  const heap = raw.HEAPU8; // decrypting allocates nothing, so the heap does not grow meanwhile
  heap.set(key, k);
  heap.set(nonce, n);
  heap.set(ad, a);
  heap.set(sealed, c);
  try {
    if (raw._crypto_aead_xchacha20poly1305_ietf_decrypt(m, 0, 0, c, sealed.length, 0, a, ad.length, 0, n, k) !== 0) {
      throw new Error('ciphertext cannot be decrypted using that key');
    }
    return utf8.decode(heap.subarray(m, m + mlen));
  } finally {
    heap.fill(0, k, k + KEY_BYTES);
    heap.fill(0, m, m + mlen);
  }
}

/** The Emscripten module behind the wrapper when it has the expected shape and passes the self-test. */
function usableRaw(sodium: typeof Sodium): RawSodium | null {
  const lib = (sodium as unknown as { libsodium?: Partial<RawSodium> }).libsodium;
  if (
    lib === undefined ||
    !(lib.HEAPU8 instanceof Uint8Array) ||
    typeof lib._malloc !== 'function' ||
    typeof lib._free !== 'function' ||
    typeof lib._crypto_aead_xchacha20poly1305_ietf_decrypt !== 'function' ||
    lib._crypto_aead_xchacha20poly1305_ietf_decrypt.length !== 11
  ) {
    return null;
  }
  const raw = lib as RawSodium;
  let known = modules.get(raw);
  if (known === undefined) {
    known = { ptr: 0, size: 0, usable: false };
    modules.set(raw, known);
    known.usable = selfTest(sodium, raw);
  }
  return known.usable ? raw : null;
}

/** Address of a scratch block of at least `size` bytes in `raw`'s heap. */
function scratch(raw: RawSodium, size: number): number {
  const known = modules.get(raw) as { ptr: number; size: number };
  if (known.size >= size) return known.ptr;
  const grown = Math.max(size, 4096, 2 * known.size);
  const ptr = raw._malloc(grown);
  if (ptr === 0) throw new Error('libsodium: out of memory');
  if (known.ptr !== 0) raw._free(known.ptr);
  known.ptr = ptr;
  known.size = grown;
  return ptr;
}

/** True when the direct call opens a probe sealed by the wrapper to the same text, and refuses it tampered. */
function selfTest(sodium: typeof Sodium, raw: RawSodium): boolean {
  try {
    const key = sodium.randombytes_buf(KEY_BYTES);
    const nonce = sodium.randombytes_buf(NONCE_BYTES);
    const ad = createAssociatedData('self-test')(1, 2 ** 40 + 7, 'self@test');
    const text = 'fk-sodium self-test ✓';
    const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(text, ad, null, nonce, key);
    if (openDirect(raw, key, ad, sealed, nonce) !== text) return false;
    sealed[3] = (sealed[3] as number) ^ 1;
    try {
      openDirect(raw, key, ad, sealed, nonce);
    } catch {
      return true;
    }
    return false;
  } catch {
    return false;
  }
}
