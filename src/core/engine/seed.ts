import type { Micros } from '../clock';
import { ADMIN_USER } from './model';
import { formatRecord } from './serializer';

/**
 * The seed line: the `CreateUser` a Flowkeeper sync server writes at the start of each new
 * account's history (the client never creates its own user, and the core accepts `CreateUser`
 * only from `admin@local.host`). The server never holds the account's passphrase, so this line is
 * always plaintext, also in an end-to-end encrypted history (Flowkeeper's client accepts
 * plaintext lines with encryption on).
 *
 * It is the one exception to "a history is plain or encrypted as a whole": a plaintext seed as
 * the first record line does not fix the history's encryption; the next record line does.
 */
export function formatSeedLine(email: string, name: string, when: Micros): string {
  return formatRecord({ seq: 1, when, user: ADMIN_USER, name: 'CreateUser', params: [email, name] });
}

const SEED_RE = /^1, [0-9: .+-]+, admin@local\.host: CreateUser\("/;

/** True when `text` is a seed line (sequence 1, `admin@local.host: CreateUser(…)`). */
export function isSeedLine(text: string): boolean {
  return SEED_RE.test(text);
}

/**
 * First line of a history file `fk serve` writes (a comment: every reader skips it). It says the
 * file follows the sync protocol's sequencing rule, not the desktop data file's: records are kept
 * in arrival order and the first record of a seq wins, as Flowkeeper's client skips a record
 * whose seq it already has (racing end-to-end encrypted clients can store two; docs/serve.md).
 */
export const SERVED_HEADER = '# fk-serve v1: a Flowkeeper sync protocol history; the first record of each seq wins';

export function isServedHeader(text: string): boolean {
  return text.startsWith('# fk-serve v1');
}
