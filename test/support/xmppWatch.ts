/**
 * A watcher for the fault proxy (`faultProxy.ts`) on an XMPP connection: names the moments a
 * client closes its session, so a test can cut the link exactly then.
 *
 * - `sm.ack`: an XEP-0198 `<a/>` (the client sends one right before closing the stream);
 * - `stream.close`: the closing `</stream:stream>` tag (RFC 6120 §4.4).
 */
const PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['sm.ack', /<a\s[^>]*xmlns=['"]urn:xmpp:sm:3['"]/],
  ['stream.close', /<\/stream:stream>/],
];

export function xmppCloseWatcher(_direction: 'up' | 'down'): (chunk: Buffer) => readonly string[] {
  let carry = '';
  return (chunk) => {
    const text = carry + chunk.toString('utf8');
    carry = text.slice(-64); // a tag split across chunks is still found, at worst twice
    return PATTERNS.filter(([, re]) => re.test(text)).map(([name]) => name);
  };
}

/**
 * A watcher for the fault proxy on an fk XMPP connection that names the moments a record moves:
 * `record.publish` (up: a client sends a record message) and `record.echo` (down: the server
 * echoes a record live, which is how a writer learns it is stored; archive pages, which carry
 * `urn:xmpp:mam`, are not echoes).
 */
export function xmppRecordWatcher(direction: 'up' | 'down'): (chunk: Buffer) => readonly string[] {
  let carry = '';
  return (chunk) => {
    const text = carry + chunk.toString('utf8');
    carry = text.slice(-64);
    if (!/<record\s/.test(text)) return [];
    if (direction === 'up') return ['record.publish'];
    return text.includes('urn:xmpp:mam') ? [] : ['record.echo'];
  };
}
