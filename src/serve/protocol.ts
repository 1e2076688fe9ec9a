import type { Micros } from '../core/clock';
import { ADMIN_USER } from '../core/engine/model';
import { parseLine } from '../core/engine/serializer';
import { formatHistoryInstant } from '../core/engine/time';

/**
 * Flowkeeper's sync protocol as the server sees it (docs/serve.md; the client's side is
 * `../shared/realclient/PROTOCOL.md`). Every frame holds lines in Flowkeeper's record grammar.
 * The server reads only the control messages (always plaintext: Authenticate, Replay, Ping,
 * DeleteAccount) and the header of plaintext records (seq, user); a `+` line is opaque Fernet.
 * Pure: no I/O.
 */

/** The names the server handles itself; they are never stored. */
export type ControlName = 'Authenticate' | 'Replay' | 'Ping' | 'DeleteAccount';

/** What one received line is. */
export type InboundLine =
  | { readonly kind: 'control'; readonly name: ControlName; readonly seq: number; readonly params: readonly string[] }
  /** A record to store: plaintext (seq, user and name readable) or Fernet (`+…`, opaque). */
  | {
      readonly kind: 'record';
      readonly encrypted: false;
      readonly seq: number;
      readonly user: string;
      readonly name: string;
    }
  | { readonly kind: 'record'; readonly encrypted: true }
  /** Blank, `#` comment: ignored, as the client ignores them. */
  | { readonly kind: 'empty' }
  /** Not acceptable; `reason` is safe to send back and to log (it never quotes the line). */
  | { readonly kind: 'invalid'; readonly seq: number | null; readonly reason: string };

const CONTROL: ReadonlySet<string> = new Set<ControlName>(['Authenticate', 'Replay', 'Ping', 'DeleteAccount']);
/** Names only a server sends: a client sending them is refused. */
const SERVER_ONLY: ReadonlySet<string> = new Set(['ReplayCompleted', 'Pong', 'Error']);

/** The client's own header rules (PROTOCOL.md §2): seq from 1, WHEN without T/Z, a dotted user. */
const HEADER_USER = String.raw`[\p{L}\p{N}_.-]+@(?:[\p{L}\p{N}_-]+\.)+[\p{L}\p{N}_-]{2,4}`;
const HEADER_RE = new RegExp(
  String.raw`^([1-9][0-9]{0,15}), ([0-9: .+-]+), (${HEADER_USER}): ([A-Za-z]+)\((.*)\)[ \t]*$`,
  'u',
);
/** A Fernet line: `+` and url-safe base64 (the token). */
const FERNET_RE = /^\+[A-Za-z0-9_-]+={0,2}$/;

/** Scans `"a", "b\"c"` (Flowkeeper's escaping: `\\` and `\"`); null when malformed. */
export function parseParams(text: string): string[] | null {
  const params: string[] = [];
  let i = 0;
  const n = text.length;
  const skipSpaces = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  skipSpaces();
  if (i === n) return params;
  for (;;) {
    if (text[i] !== '"') return null;
    i++;
    let value = '';
    for (;;) {
      if (i >= n) return null;
      const c = text[i] as string;
      if (c === '\\' && i + 1 < n && (text[i + 1] === '"' || text[i + 1] === '\\')) {
        value += text[i + 1];
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else {
        value += c;
        i++;
      }
    }
    params.push(value);
    skipSpaces();
    if (i === n) return params;
    if (text[i] !== ',') return null;
    i++;
    skipSpaces();
  }
}

/** Reads one received line (a frame's line, without its newline). */
export function readInbound(line: string): InboundLine {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const first = text.charAt(0);
  if (first === '+') {
    return FERNET_RE.test(text)
      ? { kind: 'record', encrypted: true }
      : { kind: 'invalid', seq: null, reason: 'malformed encrypted line' };
  }
  if (text.trim() === '' || first === '#') return { kind: 'empty' };
  const m = HEADER_RE.exec(text);
  if (!m) return { kind: 'invalid', seq: null, reason: 'bad syntax' };
  const seq = Number(m[1]);
  const user = m[3] as string;
  const name = m[4] as string;
  if (CONTROL.has(name)) {
    const params = parseParams(m[5] as string);
    if (params === null) return { kind: 'invalid', seq, reason: `bad parameters of ${name}` };
    return { kind: 'control', name: name as ControlName, seq, params };
  }
  if (SERVER_ONLY.has(name)) return { kind: 'invalid', seq, reason: `${name} is sent by the server only` };
  try {
    // The whole record as every reader will parse it: a line they cannot read is never stored.
    parseLine(text, 1);
  } catch (err) {
    return {
      kind: 'invalid',
      seq,
      reason: (err as { code?: string }).code === 'FK_UNKNOWN_STRATEGY' ? `unknown strategy ${name}` : 'bad syntax',
    };
  }
  return { kind: 'record', encrypted: false, seq, user, name };
}

function quote(p: string): string {
  return `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A line the server writes: by `admin@local.host` (it exists in every client's model), at least two parameters. */
export function serverLine(seq: number, when: Micros, name: string, params: readonly string[]): string {
  const padded = params.length >= 2 ? params : [...params, '', ''].slice(0, 2);
  return `${Math.max(1, seq)}, ${formatHistoryInstant(when)}, ${ADMIN_USER}: ${name}(${padded.map(quote).join(', ')})`;
}

/** Error codes the server sends (the client only needs an integer). */
export const ERROR_CODES = {
  unauthorized: 401,
  forbidden: 403,
  conflict: 409,
  tooLarge: 413,
  badRequest: 400,
  tooMany: 429,
  unavailable: 503,
} as const;

export function errorLine(seq: number, when: Micros, code: number, message: string): string {
  return serverLine(seq, when, 'Error', [String(code), message]);
}

/** For logs: what a line is, never its content (a name and a seq, or the size of an encrypted line). */
export function describeLine(line: string): Record<string, unknown> {
  const r = readInbound(line);
  if (r.kind === 'record') return r.encrypted ? { encrypted: true, bytes: line.length } : { seq: r.seq, name: r.name };
  if (r.kind === 'control') return { seq: r.seq, name: r.name };
  return { kind: r.kind, bytes: line.length };
}
