import { ParseError } from '../errors';
import { isStrategyName, type StrategyRecord } from './records';
import { assertConstructible } from './strategies/construct';
import { PY_SPACE_CLASS } from './strategies/pyNumbers';
import { formatHistoryInstant, INEXACT, parseHistoryTimestamp } from './time';

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
const LINE_RE = new RegExp(
  `([1-9][0-9]*)${SP},${SP}([0-9: .\\-+]+)${SP},${SP}(${USER})${SP}:${SP}([a-zA-Z]+)${SP}\\(` +
    `${SP}"${PARAM}?"${MORE}${MORE}${SP}(?:,${SP}"${PARAM}"${SP})*\\)`,
  'u',
);

/** Flowkeeper's unescaping: `\\"` then `\\\\`, each replaced everywhere in turn. */
const unescape = (p: string): string => (p.includes('\\') ? p.replaceAll('\\"', '"').replaceAll('\\\\', '\\') : p);

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
  const show = (part: string): string => (opts.decrypted ? HIDDEN : `'${part}'`);
  const m = LINE_RE.exec(text);
  if (!m) {
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: bad syntax ${show(text.trim())}`, {
      lineNumber,
      details: { pythonError: `Bad syntax: ${opts.decrypted ? HIDDEN : text}\n` },
    });
  }
  const name = m[4] as string;
  if (!isStrategyName(name)) {
    throw new ParseError('FK_UNKNOWN_STRATEGY', `line ${lineNumber}: unknown strategy ${show(name)}`, {
      lineNumber,
      details: { pythonError: `Unknown strategy: ${opts.decrypted ? HIDDEN : name}` },
    });
  }
  const seq = Number(m[1]);
  if (!Number.isSafeInteger(seq)) {
    const why = `sequence number ${show(m[1] as string)} is beyond 2^53 - 1, which fk cannot hold exactly`;
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: ${why}`, {
      lineNumber,
      details: { pythonName: 'ValueError', pythonError: why },
    });
  }
  const stamp = parseHistoryTimestamp(m[2] as string);
  if (stamp === INEXACT) {
    const why = `timestamp ${show(m[2] as string)} has microseconds fk cannot hold exactly (beyond the years 1684-2255)`;
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: ${why}`, {
      lineNumber,
      details: { pythonName: 'ValueError', pythonError: why },
    });
  }
  if (stamp === null) {
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: invalid timestamp ${show(m[2] as string)}`, {
      lineNumber,
      details: { pythonError: `Invalid isoformat string: ${show(m[2] as string)}`, pythonName: 'ValueError' },
    });
  }
  const params: string[] = [unescape(m[5] ?? '')];
  for (let i = 6; i <= 8; i++) if (m[i] !== undefined) params.push(unescape(m[i] as string));
  assertConstructible(name, params, lineNumber, opts.decrypted === true);
  const record: StrategyRecord =
    stamp.zone === 0
      ? { seq, when: stamp.t, user: m[3] as string, name, params }
      : { seq, when: stamp.t, zone: stamp.zone, user: m[3] as string, name, params };
  return { kind: 'record', record };
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
