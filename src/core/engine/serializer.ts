import { ParseError } from '../errors';
import { isStrategyName, type StrategyRecord } from './records';
import { assertConstructible } from './strategies/construct';
import { PY_SPACE_CLASS } from './strategies/pyNumbers';
import { INEXACT, parseHistoryTimestamp } from './pythonTime';
import { formatHistoryInstant, parseFlowkeeperInstant } from './time';

/**
 * Flowkeeper's line grammar, both ways:
 *
 *     12, 2026-06-10 12:54:22+00:00, alice@example.org: AddPomodoro("wi-1", "1", "normal")
 *
 * Parameters are double-quoted; inside them `\"` and `\\` escape a quote and a backslash.
 * Blank lines and lines starting with `#` carry no record. Encrypted lines (`+…`) are decrypted
 * by the caller before they get here.
 */


/** What a physical line holds: nothing (blank/comment) or a record. */
export type ParsedLine = { readonly kind: 'empty' } | { readonly kind: 'record'; readonly record: StrategyRecord };

export const EMPTY_LINE: ParsedLine = { kind: 'empty' };

const BLANK_RE = new RegExp(`^[${PY_SPACE_CLASS}]*$`);

/** True for lines that carry no record: blank (Python's whitespace only) or starting with `#`. */
export function isEmptyLine(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c >= 48 && c <= 57) return false; // a digit: the common case, a record
  return c === 35 || BLANK_RE.test(text);
}

/*
 * Flowkeeper's `SimpleSerializer.REGEX`, searched (not anchored) in the line, with Python's
 * Unicode `\w` and `\s`. Quirks it brings, kept on purpose: text before the sequence number or
 * after the closing parenthesis is ignored; the first parameter is required (`StopTimer()` is bad
 * syntax); of a fifth or later parameter only the last one counts; a backslash may only escape
 * `"` or `\`; the timestamp has no `T` or `Z`; the user must look like an e-mail address.
 */
const SP = `[${PY_SPACE_CLASS}]*`;
const WORD = '\\p{L}\\p{N}_';
const PARAM = '((?:[^"\\\\]|\\\\"|\\\\\\\\)*)';
const USER = `[${WORD}\\-.]+@(?:[${WORD}\\-]+\\.)+[${WORD}\\-]{2,4}`;
const MORE = `${SP}(?:,${SP}"${PARAM}")?`;
/**
 * The Unicode patterns are built on first use: V8 reads a pattern with `\p{…}` classes when it is
 * constructed (~0.25 ms each), and most runs need neither (canonical lines, ASCII identities).
 */
let lineRe: RegExp | undefined;
const lineRE = (): RegExp =>
  (lineRe ??= new RegExp(
    `([1-9][0-9]*)${SP},${SP}([0-9: .\\-+]+)${SP},${SP}(${USER})${SP}:${SP}([a-zA-Z]+)${SP}\\(` +
      `${SP}"${PARAM}?"${MORE}${MORE}${SP}(?:,${SP}"${PARAM}"${SP})*\\)`,
    'u',
  ));

let userRe: RegExp | undefined;
const userRE = (): RegExp => (userRe ??= new RegExp(`^${USER}$`, 'u'));
/**
 * The same pattern for an identity of ASCII characters only, where `\p{L}` and `\p{N}` are
 * `A-Za-z` and `0-9`: it spares compiling the Unicode one (its character tables) in most runs.
 */
const ASCII_USER = '[A-Za-z0-9_\\-.]+@(?:[A-Za-z0-9_\\-]+\\.)+[A-Za-z0-9_\\-]{2,4}';
const ASCII_USER_RE = new RegExp(`^${ASCII_USER}$`);
// eslint-disable-next-line no-control-regex
const ASCII_RE = /^[\x00-\x7f]*$/;

/**
 * True for a user identity Flowkeeper's line pattern reads (`name@domain.tld`, the last label of
 * 2-4 letters, digits, `_` or `-`): lines written for any other identity could not be read back,
 * by Flowkeeper or by fk.
 */
export function isHistoryIdentity(user: string): boolean {
  return ASCII_RE.test(user) ? ASCII_USER_RE.test(user) : userRE().test(user);
}
const knownUsers = new Set<string>();

/*
 * Runs of the characters a timestamp and a strategy name may hold, matched by the regular
 * expression engine rather than a loop of `charCodeAt`: a loop per character makes V8 compile
 * `splitCanonical` with its optimising compiler after ~80 lines, and a process that replays a
 * small history (`fk status`) then waits several milliseconds at exit for that compile to end.
 */
const TIMESTAMP_RUN = /[ +\-.0-9:]*/y;
const NAME_RUN = /[A-Za-z]*/y;

/** The index just past the run of `re` (a sticky pattern that always matches) starting at `from`. */
function runEnd(re: RegExp, text: string, from: number): number {
  re.lastIndex = from;
  re.test(text);
  return re.lastIndex;
}

/**
 * The fast path for a line exactly as Flowkeeper writes it (`12, <ts>, <user>: Name("a", "b")`,
 * at most four parameters, nothing after the parenthesis): the same five parts the pattern
 * would give, or null to let the pattern decide (any other spacing, more parameters, a stray
 * backslash, trailing text). A line accepted here is matched by the pattern at its first
 * character with the same groups: every part is scanned with the pattern's own character rules.
 */
function splitCanonical(text: string): [string, string, string, string, string[]] | null {
  const n = text.length;
  let i = 0;
  let c = text.charCodeAt(0);
  if (c < 49 || c > 57) return null;
  while (i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57) i++;
  if (text.charCodeAt(i) !== 44 || text.charCodeAt(i + 1) !== 32) return null;
  const seq = text.slice(0, i);
  const tsFrom = (i += 2);
  if (text.charCodeAt(i) === 32) return null; // the pattern's \s* takes it, not the timestamp
  i = runEnd(TIMESTAMP_RUN, text, i);
  if (i === tsFrom || text.charCodeAt(i) !== 44 || text.charCodeAt(i + 1) !== 32) return null;
  const ts = text.slice(tsFrom, i);
  const colon = text.indexOf(': ', i + 2);
  if (colon < 0) return null;
  const user = text.slice(i + 2, colon);
  if (!knownUsers.has(user)) {
    if (!isHistoryIdentity(user)) return null;
    if (knownUsers.size > 1000) knownUsers.clear();
    knownUsers.add(user);
  }
  i = colon + 2;
  const nameFrom = i;
  i = runEnd(NAME_RUN, text, i);
  if (i === nameFrom || text.charCodeAt(i) !== 40) return null;
  const name = text.slice(nameFrom, i);
  // up to four parameters in locals, then one array of their number (`push` would allocate 17 slots)
  let p0 = '';
  let p1 = '';
  let p2 = '';
  let p3 = '';
  let count = 0;
  i++;
  let backslash = text.indexOf('\\', i);
  for (;;) {
    if (text.charCodeAt(i) !== 34) return null;
    const from = ++i;
    let escaped = false;
    // the closing quote: the first `"` not escaped; a backslash escapes only `"` or `\`
    for (;;) {
      const quote = text.indexOf('"', i);
      if (quote < 0) return null;
      if (backslash >= 0 && backslash < i) backslash = text.indexOf('\\', i);
      if (backslash < 0 || backslash > quote) {
        i = quote;
        break;
      }
      const next = text.charCodeAt(backslash + 1);
      if (next !== 34 && next !== 92) return null;
      escaped = true;
      i = backslash + 2;
    }
    const raw = text.slice(from, i);
    const param = escaped ? unescape(raw) : raw;
    if (count === 0) p0 = param;
    else if (count === 1) p1 = param;
    else if (count === 2) p2 = param;
    else if (count === 3) p3 = param;
    else return null; // a fifth parameter: the pattern's rules for it
    count++;
    i++;
    if (text.charCodeAt(i) === 41) break;
    if (text.charCodeAt(i) !== 44 || text.charCodeAt(i + 1) !== 32) return null;
    i += 2;
  }
  if (i !== n - 1) return null;
  const params = count === 1 ? [p0] : count === 2 ? [p0, p1] : count === 3 ? [p0, p1, p2] : [p0, p1, p2, p3];
  return [seq, ts, user, name, params];
}

/** Flowkeeper's unescaping: `\\"` then `\\\\`, each replaced everywhere in turn. */
const unescape = (p: string): string => (p.includes('\\') ? p.replaceAll('\\"', '"').replaceAll('\\\\', '\\') : p);

/** The pattern, searched in the line: the same five parts as `splitCanonical`, or null. */
function matchLine(text: string): [string, string, string, string, string[]] | null {
  const m = lineRE().exec(text);
  if (!m) return null;
  const params: string[] = [unescape(m[5] ?? '')];
  for (let i = 6; i <= 8; i++) if (m[i] !== undefined) params.push(unescape(m[i] as string));
  return [m[1] as string, m[2] as string, m[3] as string, m[4] as string, params];
}

/** What the reader of an error may be shown of the line. */
export interface ParseLineOptions {
  /**
   * The line was decrypted: its content is the key holder's data and must not reach an error
   * message, its details or a log. Errors then say what is wrong, not what the line holds.
   * @default false
   */
  readonly decrypted?: boolean;
}

const HIDDEN = '(an encrypted record: its content is not shown)';

/**
 * Parses one physical line (1-based `lineNumber` for messages) exactly as Flowkeeper's
 * deserializer does. Throws `ParseError` with no `seq`: `FK_PARSE_FAILED` for bad syntax, a bad
 * timestamp, a sequence number beyond 2^53 (JS numbers cannot hold it exactly) or parameters the
 * strategy cannot be built from; `FK_UNKNOWN_STRATEGY` for an unknown name.
 */
export function parseLine(text: string, lineNumber: number, opts: ParseLineOptions = {}): ParsedLine {
  if (isEmptyLine(text)) return EMPTY_LINE;
  const m = splitCanonical(text) ?? matchLine(text);
  if (!m) {
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: bad syntax ${shown(text.trim(), opts)}`, {
      lineNumber,
      details: { pythonError: `Bad syntax: ${opts.decrypted ? HIDDEN : text}\n` },
    });
  }
  const name = m[3];
  if (!isStrategyName(name)) {
    throw new ParseError('FK_UNKNOWN_STRATEGY', `line ${lineNumber}: unknown strategy ${shown(name, opts)}`, {
      lineNumber,
      details: { pythonError: `Unknown strategy: ${opts.decrypted ? HIDDEN : name}` },
    });
  }
  const seq = Number(m[0]);
  if (!Number.isSafeInteger(seq)) {
    const why = `sequence number ${shown(m[0], opts)} is beyond 2^53 - 1, which fk cannot hold exactly`;
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: ${why}`, {
      lineNumber,
      details: { pythonName: 'ValueError', pythonError: why },
    });
  }
  // What Flowkeeper writes (`2026-06-10 12:54:22[.123456]+00:00`) is UTC and reads the same
  // without Python's rules: read directly, with no result object per line. Only the other forms
  // Python accepts (offsets, naive times) go through `parseHistoryTimestamp`.
  let when = parseFlowkeeperInstant(m[1]);
  let zone: number | null = 0;
  if (when === null || !Number.isSafeInteger(when)) {
    const stamp = parseHistoryTimestamp(m[1]);
    if (stamp === INEXACT) {
      const why = `timestamp ${shown(m[1], opts)} has microseconds fk cannot hold exactly (beyond the years 1684-2255)`;
      throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: ${why}`, {
        lineNumber,
        details: { pythonName: 'ValueError', pythonError: why },
      });
    }
    if (stamp === null) {
      throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: invalid timestamp ${shown(m[1], opts)}`, {
        lineNumber,
        details: { pythonError: `Invalid isoformat string: ${shown(m[1], opts)}`, pythonName: 'ValueError' },
      });
    }
    when = stamp.t;
    zone = stamp.zone;
  }
  const params = m[4];
  assertConstructible(name, params, lineNumber, opts.decrypted === true);
  const record: StrategyRecord =
    zone === 0 ? { seq, when, user: m[2], name, params } : { seq, when, zone, user: m[2], name, params };
  return { kind: 'record', record };
}

/** A part of the line as an error may show it: quoted, or hidden when the line was decrypted. */
function shown(part: string, opts: ParseLineOptions): string {
  return opts.decrypted ? HIDDEN : `'${part}'`;
}

function quote(p: string): string {
  return `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Formats a record exactly as Flowkeeper writes it (no trailing newline; at least two parameters). */
export function formatRecord(r: StrategyRecord): string {
  const params = r.params.length >= 2 ? r.params : [...r.params, '', ''].slice(0, 2);
  return `${r.seq}, ${formatHistoryInstant(r.when)}, ${r.user}: ${r.name}(${params.map(quote).join(', ')})`;
}

/** Splits text into physical lines the way Python's universal newlines do (`\n`, `\r\n`, `\r`). */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
