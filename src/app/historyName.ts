import { nodeCrypto } from '../core/nodeCrypto';

/** Longest history name the AMQP transport accepts (`HISTORY_NAME_PATTERN` in amqp/topology.ts). */
const MAX_LENGTH = 128;
/** Hex digits of the SHA-256 suffix of a name that would be too long (128 bits). */
const HASH_HEX = 32;
/** Kept as they are anywhere; `. @ + -` are kept only after the first character. */
const ALNUM = /^[A-Za-z0-9]$/;
const KEPT_AFTER_FIRST = /^[.@+-]$/;

function escape(char: string): string {
  return [...Buffer.from(char, 'utf8')].map((b) => `_${b.toString(16).padStart(2, '0')}`).join('');
}

/**
 * Maps an fk user identity to a broker history name: the AMQP transport wants 1–128 of
 * `[A-Za-z0-9._@+-]`, starting with a letter or digit (issue 4: `.x` or `_x` used to give an
 * invalid name, and `a+b`, `a b` and `a_b` all became `a_b`). The mapping is injective:
 *
 * - letters and digits, and `. @ + -` after the first character, stay: `user@local.host` and
 *   `bob+work@example.com` map to themselves;
 * - every other character, `_` included, becomes `_` and two lowercase hex digits per UTF-8 byte
 *   (`john_doe` → `john_5fdoe`, `é` → `_c3_a9`), so `_` is always followed by two hex digits;
 * - when the first character was escaped (or the identity is empty), `0_` goes in front
 *   (`.x` → `0__2ex`): only there is a `_` not followed by two hex digits;
 * - a result over 128 characters is cut to 94 and ends in `_h` and 32 hex digits of the
 *   identity's SHA-256 (`_h` occurs nowhere else); distinct long identities collide only if
 *   SHA-256 does.
 *
 * Broker permissions name the result (`historyTopology(historyName(user)).permissionPattern`).
 */
export function historyName(user: string): string {
  let out = '';
  let first = true;
  for (const char of user) {
    out += ALNUM.test(char) || (!first && KEPT_AFTER_FIRST.test(char)) ? char : escape(char);
    first = false;
  }
  if (!ALNUM.test(out.charAt(0))) out = `0_${out}`;
  if (out.length <= MAX_LENGTH) return out;
  const hash = nodeCrypto().createHash('sha256').update(user, 'utf8').digest('hex').slice(0, HASH_HEX);
  return `${out.slice(0, MAX_LENGTH - HASH_HEX - 2)}_h${hash}`;
}
