import { ParseError } from './errors';
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

const LINE_RE = /^\s*(-?\d+)\s*,\s*([^,]+?)\s*,\s*([^:]*?)\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\((.*)\)\s*$/s;
const PARAM_RE = /\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/gy;

/** What a physical line holds: nothing (blank/comment) or a record. */
export type ParsedLine = { readonly kind: 'empty' } | { readonly kind: 'record'; readonly record: StrategyRecord };

export const EMPTY_LINE: ParsedLine = { kind: 'empty' };

/** True for lines that carry no record: blank or `#` comments. */
export function isEmptyLine(text: string): boolean {
  const t = text.trim();
  return t === '' || t.startsWith('#');
}

function parseParams(text: string): string[] | null {
  const params: string[] = [];
  if (text.trim() === '') return params;
  PARAM_RE.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PARAM_RE.lastIndex = pos;
    const m = PARAM_RE.exec(text);
    if (!m) return null;
    params.push((m[1] as string).replace(/\\(.)/gs, '$1'));
    pos = PARAM_RE.lastIndex;
    if (m[2] === '') break;
    if (pos >= text.length) return null; // trailing comma
  }
  return pos >= text.length ? params : null;
}

/**
 * Parses one physical line (1-based `lineNumber` for messages). Throws `ParseError`:
 * `FK_PARSE_FAILED` for bad syntax or a bad timestamp, `FK_UNKNOWN_STRATEGY` for an unknown name.
 * As in Flowkeeper, `seq` of such errors is unknown (null).
 */
export function parseLine(text: string, lineNumber: number): ParsedLine {
  if (isEmptyLine(text)) return EMPTY_LINE;
  const m = LINE_RE.exec(text);
  const params = m ? parseParams(m[5] as string) : null;
  if (!m || params === null) {
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: bad syntax '${text.trim()}'`, {
      lineNumber,
      details: { pythonError: `Bad syntax: ${text}\n` },
    });
  }
  const name = m[4] as string;
  if (!isStrategyName(name)) {
    throw new ParseError('FK_UNKNOWN_STRATEGY', `line ${lineNumber}: unknown strategy '${name}'`, {
      lineNumber,
      details: { pythonError: `Unknown strategy: ${name}` },
    });
  }
  const when = parseInstant(m[2] as string);
  if (when === null) {
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: invalid timestamp '${m[2]}'`, {
      lineNumber,
      details: { pythonError: `Invalid isoformat string: '${m[2]}'`, pythonName: 'ValueError' },
    });
  }
  return { kind: 'record', record: { seq: Number(m[1]), when, user: m[3] as string, name, params } };
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
