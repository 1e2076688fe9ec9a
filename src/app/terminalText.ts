/**
 * Text for a terminal: control characters made visible, so that a history line (or any value a
 * user or another writer chose) can never move the cursor, retitle the window, rewrite what was
 * printed before or reorder text (bidirectional overrides) when `fk` prints it.
 *
 * Escaped as `\xNN` (C0 except tab and line feed, DEL, C1) or `\uNNNN` (bidirectional controls).
 * Tab and line feed stay: messages may span lines, and a history line cannot hold a line feed.
 */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * The same characters in JSON output: as `\uNNNN` escapes, which every JSON reader decodes back
 * to the same string (JSON.stringify already escapes C0; DEL, C1 and bidi controls it leaves raw).
 */
export function escapeJsonControl(json: string): string {
  return json.replace(
    /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
