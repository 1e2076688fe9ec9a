import { keyInvalid } from './cryptoErrors';

/**
 * The per-history header of a sodium-encrypted history: a comment line (replay ignores comments)
 * that carries what a reader needs to derive the key and check the binding, none of it secret:
 *
 *     # fk-sodium v1 log=<log id> salt=<base64url, 16 bytes, unpadded> [check=<base64url, 16 bytes>]
 *
 * `check` (written since issue 11 item 4) lets a reader tell a wrong passphrase from junk records
 * before it reads any record: it is `sodiumKeyCheck(key, logId)`, a keyed hash that reveals
 * nothing about the key. Headers without it are read as before.
 *
 * `v1` fixes the whole scheme: Argon2id (opslimit 3, memlimit 256 MiB) and envelope version 1.
 */
export interface SodiumHeader {
  readonly version: 1;
  /** Authenticated with every record, so records cannot move between histories. */
  readonly logId: string;
  /** Argon2id salt, 16 random bytes chosen when the history is created. */
  readonly salt: Uint8Array;
  /** `sodiumKeyCheck` of the history's key, when the header carries one. */
  readonly check?: string;
}

const DETECT = /^#\s*fk-sodium(\s|$)/;
const STRICT =
  /^# fk-sodium v(\d{1,3}) log=([A-Za-z0-9._:@-]{1,128}) salt=([A-Za-z0-9_-]{22})(?: check=([A-Za-z0-9_-]{22}))?\s*$/;
const SALT_BYTES = 16;

/** `# fk-sodium v1 log=<logId> salt=<salt>`; throws `FK_KEY_INVALID` for a salt of the wrong size. */
export function formatSodiumHeader(header: {
  readonly logId: string;
  readonly salt: Uint8Array;
  readonly check?: string;
}): string {
  if (header.salt.length !== SALT_BYTES)
    throw keyInvalid(`sodium salt must be ${SALT_BYTES} bytes, got ${header.salt.length}`);
  if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(header.logId)) {
    throw keyInvalid(`log id must be 1-128 characters of [A-Za-z0-9._:@-], got '${header.logId.slice(0, 140)}'`);
  }
  if (header.check !== undefined && !/^[A-Za-z0-9_-]{22}$/.test(header.check))
    throw keyInvalid('sodium key check must be 16 bytes of base64url');
  const check = header.check === undefined ? '' : ` check=${header.check}`;
  return `# fk-sodium v1 log=${header.logId} salt=${Buffer.from(header.salt).toString('base64url')}${check}`;
}

/**
 * The header carried by `line`, or null when the line is not an fk-sodium header (any other line,
 * including other comments). A line that claims to be one (`# fk-sodium …`) but is malformed or
 * of an unknown version throws `CryptoError FK_KEY_INVALID` naming `lineNumber`.
 */
export function parseSodiumHeader(line: string, lineNumber: number | null = null): SodiumHeader | null {
  if (!DETECT.test(line)) return null;
  const where = lineNumber === null ? 'fk-sodium header' : `line ${lineNumber}: fk-sodium header`;
  const m = STRICT.exec(line);
  if (!m?.[1] || !m[2] || !m[3])
    throw keyInvalid(`${where} is malformed, expected '# fk-sodium v1 log=<id> salt=<base64url>'`);
  if (m[1] !== '1') throw keyInvalid(`${where} has unsupported version 'v${m[1]}'`);
  const salt = Buffer.from(m[3], 'base64url');
  if (salt.length !== SALT_BYTES || salt.toString('base64url') !== m[3])
    throw keyInvalid(`${where} has a malformed salt`);
  return { version: 1, logId: m[2], salt: new Uint8Array(salt), ...(m[4] ? { check: m[4] } : {}) };
}

/**
 * The fk-sodium header of a history and its 1-based line number, or null if there is none.
 * Two headers that disagree throw `FK_KEY_INVALID`: a history has one log id and one salt.
 */
export function findSodiumHeader(lines: readonly string[]): { header: SodiumHeader; lineNumber: number } | null {
  // The first header wins: two clients starting a new broker history at the same moment may both
  // write one, and every reader must agree on the same (first) one. Later headers are ignored.
  for (const [i, line] of lines.entries()) {
    const header = parseSodiumHeader(line, i + 1);
    if (header !== null) return { header, lineNumber: i + 1 };
  }
  return null;
}
