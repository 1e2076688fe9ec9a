import { pbkdf2 } from 'node:crypto';
import type { Worker as WorkerType } from 'node:worker_threads';
import { deriveSodiumKey, fernetKdfParams, sodiumKdfParams } from '../core/crypto';

/**
 * Key derivation that never blocks the event loop (issue 11.5). Argon2id (256 MiB, about a second
 * on an idle machine, many under load) and PBKDF2 480 000 are synchronous in core; run on the main
 * thread after a broker connection is open, they starved it: no heartbeat went out, the broker
 * dropped the connection, and the first command failed after a minute. Here the same derivations
 * (same parameters, from core) run off the main thread: Argon2id in a worker thread, PBKDF2 in
 * node:crypto's thread pool. The key cache (`keyCache.ts`) takes these as its `derive`.
 */

/**
 * The worker: libsodium's `crypto_pwhash` with the parameters core chose. Evaluated source, not a
 * file, so it runs the same from `dist` and under ts-jest; libsodium is required by the absolute
 * path resolved here, so it does not depend on the working directory.
 */
const ARGON2ID_WORKER = `
const { parentPort, workerData: d } = require('node:worker_threads');
const sodium = require(d.sodiumPath);
sodium.ready
  .then(() => {
    const alg = sodium.crypto_pwhash_ALG_ARGON2ID13;
    const key = sodium.crypto_pwhash(d.keyBytes, d.passphrase, d.salt, d.opslimit, d.memlimit, alg);
    parentPort.postMessage({ key });
  })
  .catch((err) => parentPort.postMessage({ error: String((err && err.message) || err) }));
`;

/** What to say while deriving, on a terminal (stderr only when it is a TTY). */
export interface DerivationNotice {
  /** @default process.stderr */
  readonly stream?: { write(s: string): unknown; readonly isTTY?: boolean };
}

const NOTICE = 'fk: deriving the encryption key from the passphrase (once per history on this machine)…';

/** Writes the notice on a terminal and returns the function that erases it. */
function showNotice(opts: DerivationNotice): () => void {
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY !== true) return () => undefined;
  stream.write(NOTICE);
  return () => stream.write('\r\x1b[K');
}

/** `deriveSodiumKey` in a worker thread; on the main thread only if the worker fails. */
export async function deriveSodiumKeyOffThread(
  passphrase: string,
  salt: Uint8Array,
  notice: DerivationNotice = {},
): Promise<Uint8Array> {
  const p = sodiumKdfParams(passphrase, salt);
  const erase = showNotice(notice);
  try {
    return await inWorker(p).catch(() => deriveSodiumKey(passphrase, salt));
  } finally {
    erase();
  }
}

/** Runs Argon2id in a worker thread; rejects if the worker fails in any way. */
function inWorker(p: ReturnType<typeof sodiumKdfParams>): Promise<Uint8Array> {
  // Loaded here, not at the top: a command on a plain history never derives a key and should not
  // pay for worker_threads at start-up (test/integration/startup.int.test.ts).
  const { Worker } = require('node:worker_threads') as { Worker: typeof WorkerType };
  return new Promise<Uint8Array>((resolve, reject) => {
    const worker = new Worker(ARGON2ID_WORKER, {
      eval: true,
      workerData: { ...p, salt: Uint8Array.from(p.salt), sodiumPath: require.resolve('libsodium-wrappers-sumo') },
    });
    worker.once('message', (m: { key?: Uint8Array; error?: string }) => {
      if (m.key !== undefined) resolve(new Uint8Array(m.key));
      else reject(new Error(`key derivation failed: ${m.error ?? 'unknown error'}`));
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`key derivation worker exited with code ${code}`)));
  });
}

/** `deriveFernetKey` on node:crypto's thread pool. */
export async function deriveFernetKeyOffThread(passphrase: string, notice: DerivationNotice = {}): Promise<Uint8Array> {
  const p = fernetKdfParams(passphrase);
  const erase = showNotice(notice);
  try {
    return await new Promise<Uint8Array>((resolve, reject) =>
      pbkdf2(p.password, p.salt, p.iterations, p.keyBytes, p.digest, (err, key) =>
        err ? reject(err) : resolve(new Uint8Array(key)),
      ),
    );
  } finally {
    erase();
  }
}
