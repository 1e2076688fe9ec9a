import { Worker } from 'node:worker_threads';

/**
 * Argon2id password hashes (libsodium's `crypto_pwhash_str`, the PHC string format
 * `$argon2id$v=19$m=65536,t=2,p=1$…`) for the file backend's accounts. Hashing and verifying
 * take about half a second of CPU in libsodium's WebAssembly build, so they run on a worker
 * thread: a sign-in never stalls the connections already open. One worker, one job at a time.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when `password` matches `hash`; false for a mismatch or a hash that is not Argon2id. */
  verify(hash: string, password: string): Promise<boolean>;
  close(): Promise<void>;
}

/** libsodium's INTERACTIVE limits: meant for online sign-in (about 0.5 s and 64 MiB here). */
export const PWHASH_OPSLIMIT = 2;
export const PWHASH_MEMLIMIT = 64 * 1024 * 1024;

/**
 * A valid hash of a random password nobody knows: an unknown account is checked against it, so
 * a wrong e-mail costs as long as a wrong password and the two cannot be told apart by timing.
 */
export const DUMMY_HASH =
  '$argon2id$v=19$m=65536,t=2,p=1$oqAM+fxP/9bXdtZqZg4Tow$1AIO7N+r8HeRqjiOpNKtqWM913shfeJyOfbHaatDMo8';

/** The worker's code (CommonJS, evaluated): libsodium is required by its resolved path. */
function workerSource(sodiumPath: string): string {
  return `
const { parentPort } = require('node:worker_threads');
const sodium = require(${JSON.stringify(sodiumPath)});
const ready = sodium.ready;
parentPort.on('message', async (job) => {
  await ready;
  try {
    const result = job.op === 'hash'
      ? sodium.crypto_pwhash_str(job.password, ${PWHASH_OPSLIMIT}, ${PWHASH_MEMLIMIT})
      : sodium.crypto_pwhash_str_verify(job.hash, job.password);
    parentPort.postMessage({ id: job.id, result });
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: String(err && err.message || err) });
  }
});`;
}

interface Job {
  readonly resolve: (v: string | boolean) => void;
  readonly reject: (e: Error) => void;
}

export function createPasswordHasher(): PasswordHasher {
  let worker: Worker | null = null;
  let nextId = 1;
  const jobs = new Map<number, Job>();

  function start(): Worker {
    if (worker) return worker;
    const w = new Worker(workerSource(require.resolve('libsodium-wrappers-sumo')), { eval: true });
    w.on('message', (msg: { id: number; result?: string | boolean; error?: string }) => {
      const job = jobs.get(msg.id);
      if (!job) return;
      jobs.delete(msg.id);
      if (msg.error !== undefined) job.reject(new Error(msg.error));
      else job.resolve(msg.result as string | boolean);
      if (jobs.size === 0) w.unref();
    });
    w.on('error', (err) => {
      for (const job of jobs.values()) job.reject(err);
      jobs.clear();
      worker = null;
    });
    worker = w;
    return w;
  }

  function run(job: { op: 'hash' | 'verify'; hash?: string; password: string }): Promise<string | boolean> {
    const w = start();
    w.ref();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      jobs.set(id, { resolve, reject });
      w.postMessage({ id, ...job });
    });
  }

  return {
    hash: async (password) => (await run({ op: 'hash', password })) as string,
    async verify(hash, password) {
      if (!hash.startsWith('$argon2id$')) return false;
      return (await run({ op: 'verify', hash, password })) === true;
    },
    async close() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}
