import type * as NodeCrypto from 'node:crypto';

let loaded: typeof NodeCrypto | undefined;

/**
 * `node:crypto`, loaded on first use rather than at start-up: a command on a plaintext history
 * never encrypts, hashes or draws an id, and loading the module costs about a third of a bare
 * Node start (`npm run bench startup`).
 */
export function nodeCrypto(): typeof NodeCrypto {
  loaded ??= require('node:crypto') as typeof NodeCrypto;
  return loaded;
}
