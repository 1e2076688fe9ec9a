import { ParseError } from '../errors';
import { isStrategyName, type StrategyRecord } from './records';
import { formatHistoryInstant, parseInstant } from './time';

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

/** True for lines that carry no record: blank or `#` comments. */
export function isEmptyLine(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c >= 48 && c <= 57) return false; // a digit: the common case, a record
  const t = text.trim();
  return t === '' || t.startsWith('#');
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SEQ_RE = /^-?\d+$/;

/** Splits `seq, when, user: Name(params)` into its five parts, or null. */
function splitRecordLine(text: string): [string, string, string, string, string] | null {
  const c1 = text.indexOf(',');
  if (c1 < 0) return null;
  const c2 = text.indexOf(',', c1 + 1);
  if (c2 < 0) return null;
  const colon = text.indexOf(':', c2 + 1);
  if (colon < 0) return null;
  const open = text.indexOf('(', colon + 1);
  if (open < 0) return null;
  let end = text.length - 1;
  while (end > open && (text.charCodeAt(end) === 32 || text.charCodeAt(end) === 9)) end--;
  if (text.charCodeAt(end) !== 41) return null;
  const seq = text.slice(0, c1).trim();
  const when = text.slice(c1 + 1, c2).trim();
  const user = text.slice(c2 + 1, colon).trim();
  const name = text.slice(colon + 1, open).trimStart();
  if (!SEQ_RE.test(seq) || when === '' || !NAME_RE.test(name)) return null;
  return [seq, when, user, name, text.slice(open + 1, end)];
}

/**
 * Scans `"a", "b\\"c"` into parameters; null when the text is not a well-formed list.
 * A hand-written scanner: this is the hottest loop of a replay.
 */
function parseParams(text: string): string[] | null {
  const params: string[] = [];
  const n = text.length;
  let i = 0;
  const skipWs = (): void => {
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  };
  skipWs();
  if (i === n) return params;
  for (;;) {
    if (text.charCodeAt(i) !== 34) return null;
    const start = ++i;
    let escaped = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 92) {
        escaped = true;
        i += 2;
      } else if (c === 34) break;
      else i++;
    }
    if (i >= n) return null;
    const raw = text.slice(start, i);
    params.push(escaped ? raw.replace(/\\(.)/gs, '$1') : raw);
    i++;
    skipWs();
    if (i === n) return params;
    if (text.charCodeAt(i) !== 44) return null;
    i++;
    skipWs();
    if (i === n) return null;
  }
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
 * Parses one physical line (1-based `lineNumber` for messages). Throws `ParseError`:
 * `FK_PARSE_FAILED` for bad syntax or a bad timestamp, `FK_UNKNOWN_STRATEGY` for an unknown name.
 * As in Flowkeeper, `seq` of such errors is unknown (null).
 */
export function parseLine(text: string, lineNumber: number, opts: ParseLineOptions = {}): ParsedLine {
  if (isEmptyLine(text)) return EMPTY_LINE;
  const show = (part: string): string => (opts.decrypted ? HIDDEN : `'${part}'`);
  const m = splitRecordLine(text);
  const params = m ? parseParams(m[4]) : null;
  if (!m || params === null) {
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: bad syntax ${show(text.trim())}`, {
      lineNumber,
      details: { pythonError: `Bad syntax: ${opts.decrypted ? HIDDEN : text}\n` },
    });
  }
  const name = m[3];
  if (!isStrategyName(name)) {
    throw new ParseError('FK_UNKNOWN_STRATEGY', `line ${lineNumber}: unknown strategy ${show(name)}`, {
      lineNumber,
      details: { pythonError: `Unknown strategy: ${opts.decrypted ? HIDDEN : name}` },
    });
  }
  const when = parseInstant(m[1]);
  if (when === null) {
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: invalid timestamp ${show(m[1])}`, {
      lineNumber,
      details: { pythonError: `Invalid isoformat string: ${show(m[1])}`, pythonName: 'ValueError' },
    });
  }
  return { kind: 'record', record: { seq: Number(m[0]), when, user: m[2], name, params } };
}

function quote(p: string): string {
  return `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Formats a record exactly as Flowkeeper writes it (no trailing newline). */
export function formatRecord(r: StrategyRecord): string {
  return `${r.seq}, ${formatHistoryInstant(r.when)}, ${r.user}: ${r.name}(${r.params.map(quote).join(', ')})`;
}

/** Splits text into physical lines the way Python's universal newlines do (`\n`, `\r\n`, `\r`). */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
