import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/client';
import { InputError } from '../../core/errors';
import type { PublishMeta } from '../../core/transport';

/**
 * Pure mapping between history lines and stanzas (no I/O). A record is a `type="chat"` message to
 * the account's own bare JID, archived by the server (XEP-0313) and copied live to every resource
 * (XEP-0280). See docs/xmpp.md for why.
 */

/** Namespace of our payload element. Not under urn:xmpp:, which the XSF reserves. */
export const NS_RECORD = 'urn:flowkeeper:record:0';
export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_RSM = 'http://jabber.org/protocol/rsm';
export const NS_SID = 'urn:xmpp:sid:0';
export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_HINTS = 'urn:xmpp:hints';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DATA = 'jabber:x:data';
export const NS_PING = 'urn:xmpp:ping';

/** The record carried by one message: the opaque line and the publisher's metadata. */
export interface RecordPayload {
  readonly line: string;
  readonly id: string;
  readonly seq: number | null;
}

/** One row of an archive page: its archive id and the record it holds, if it is one of ours. */
export interface ArchiveRow {
  readonly archiveId: string;
  readonly record: RecordPayload | null;
}

// XML 1.0 §2.2 Char excludes C0 controls other than TAB/LF/CR and U+FFFE/U+FFFF; CR is allowed but
// parsers normalize it to LF (§2.11). Lines with any of these travel base64-encoded (UTF-8).
// eslint-disable-next-line no-control-regex
const NOT_VERBATIM = /[\u0000-\u0008\u000B\u000C\u000D\u000E-\u001F\uFFFE\uFFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The bare form (`local@domain`) of a JID string, lowercased for comparison. */
export function bareOf(address: string): string {
  const slash = address.indexOf('/');
  return (slash < 0 ? address : address.slice(0, slash)).toLowerCase();
}

/**
 * The message that stores `line`: to the own bare JID, with the publish id as stanza id and
 * origin-id (XEP-0359), and a store hint (XEP-0334) since it has no `<body/>` (chat clients that
 * share the account then ignore it). Throws `InputError FK_INPUT_INVALID` for a line that is not
 * valid Unicode (an unpaired surrogate cannot be sent as UTF-8).
 */
export function recordMessage(ownBare: string, line: string, meta: PublishMeta): Element {
  const bad = LONE_SURROGATE.exec(line);
  if (bad) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `record '${meta.id}': line has an unpaired surrogate at index ${bad.index}`,
      {
        details: { id: meta.id, index: bad.index },
      },
    );
  }
  const base64 = NOT_VERBATIM.test(line);
  const text = base64 ? Buffer.from(line, 'utf8').toString('base64') : line;
  return xml(
    'message',
    { to: ownBare, type: 'chat', id: meta.id },
    xml('record', { xmlns: NS_RECORD, id: meta.id, seq: meta.seq, encoding: base64 ? 'base64' : undefined }, text),
    xml('origin-id', { xmlns: NS_SID, id: meta.id }),
    xml('store', { xmlns: NS_HINTS }),
  );
}

/** The record in a message, or null when the message carries none (or a malformed one). */
export function readRecord(message: Element): RecordPayload | null {
  const el = message.getChild('record', NS_RECORD);
  const id = el?.attrs.id;
  if (!el || !id) return null;
  const seqText = el.attrs.seq;
  const seq = seqText !== undefined && /^-?\d+$/.test(seqText) ? Number(seqText) : null;
  const text = el.getText();
  if (el.attrs.encoding === undefined) return { line: text, id, seq };
  if (el.attrs.encoding !== 'base64' || !BASE64.test(text)) return null;
  return { line: Buffer.from(text, 'base64').toString('utf8'), id, seq };
}

/** The stanza id (XEP-0359) the archive of `by` gave this message, if any. */
export function stanzaIdBy(message: Element, by: string): string | null {
  for (const el of message.getChildren('stanza-id', NS_SID)) {
    if (el.attrs.by !== undefined && bareOf(el.attrs.by) === by && el.attrs.id) return el.attrs.id;
  }
  return null;
}

/**
 * The message a live stanza stands for, when it comes from our own account: a message from one of
 * our resources, or the message inside a carbon (XEP-0280 §11: only carbons from our own bare JID
 * are trusted). Null for anything else.
 */
export function ownMessage(stanza: Element, ownBare: string): Element | null {
  if (stanza.name !== 'message' || stanza.attrs.from === undefined) return null;
  const from = bareOf(stanza.attrs.from);
  if (from !== ownBare) return null;
  const carbon = stanza.getChild('received', NS_CARBONS) ?? stanza.getChild('sent', NS_CARBONS);
  if (!carbon) return stanza;
  if (stanza.attrs.from.includes('/')) return null;
  const inner = carbon.getChild('forwarded', NS_FORWARD)?.getChild('message');
  return inner ?? null;
}

/**
 * One page of the archive (XEP-0313 §4 with RSM, XEP-0059): at most `max` messages exchanged with
 * `withJid`, strictly after archive id `after` (from the start when null).
 */
export function mamQuery(queryId: string, withJid: string, after: string | null, max: number): Element {
  return xml(
    'iq',
    { type: 'set', id: queryId },
    xml(
      'query',
      { xmlns: NS_MAM, queryid: queryId },
      xml(
        'x',
        { xmlns: NS_DATA, type: 'submit' },
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM)),
        xml('field', { var: 'with' }, xml('value', {}, withJid)),
      ),
      xml('set', { xmlns: NS_RSM }, xml('max', {}, String(max)), after === null ? null : xml('after', {}, after)),
    ),
  );
}

/** The archive row in a MAM result message of query `queryId`, or null for any other stanza. */
export function parseMamResult(stanza: Element, queryId: string): ArchiveRow | null {
  if (stanza.name !== 'message') return null;
  const result = stanza.getChild('result', NS_MAM);
  if (!result || result.attrs.queryid !== queryId || !result.attrs.id) return null;
  const message = result.getChild('forwarded', NS_FORWARD)?.getChild('message');
  return { archiveId: result.attrs.id, record: message ? readRecord(message) : null };
}

/** The query id of a MAM result message, so results can be routed to their query. */
export function mamResultQueryId(stanza: Element): string | null {
  if (stanza.name !== 'message') return null;
  return stanza.getChild('result', NS_MAM)?.attrs.queryid ?? null;
}

/** Whether the `<fin/>` of a MAM query says this was the last page (XEP-0313 §4.3.2). */
export function isLastPage(iqResult: Element, rowsOnPage: number): boolean {
  const fin = iqResult.getChild('fin', NS_MAM);
  return fin?.attrs.complete === 'true' || rowsOnPage === 0;
}

export function discoInfoQuery(to: string): Element {
  return xml('iq', { type: 'get', to }, xml('query', { xmlns: NS_DISCO_INFO }));
}

/** The `var`s of the features in a disco#info result (XEP-0030 §3.1). */
export function discoFeatures(iqResult: Element): Set<string> {
  const query = iqResult.getChild('query', NS_DISCO_INFO);
  const vars = (query?.getChildren('feature') ?? []).map((f) => f.attrs.var).filter((v): v is string => !!v);
  return new Set(vars);
}

export function mamPrefsQuery(): Element {
  return xml('iq', { type: 'get' }, xml('prefs', { xmlns: NS_MAM }));
}

/**
 * Whether the archiving preferences (XEP-0313 §6) store messages exchanged with `ownBare`:
 * not listed under `<never/>`, and listed under `<always/>` or default `always`. `roster` counts as
 * not stored, since an account is normally not in its own roster.
 */
export function prefsArchiveSelf(iqResult: Element, ownBare: string): { stored: boolean; rule: string } {
  const prefs = iqResult.getChild('prefs', NS_MAM);
  const listed = (name: string): boolean =>
    (prefs?.getChild(name)?.getChildren('jid') ?? []).some((j) => bareOf(j.getText().trim()) === ownBare);
  const rule = prefs?.attrs.default ?? 'unknown';
  if (listed('never')) return { stored: false, rule: 'never (own JID listed)' };
  if (listed('always')) return { stored: true, rule: 'always (own JID listed)' };
  return { stored: rule === 'always', rule };
}

export function enableCarbons(): Element {
  return xml('iq', { type: 'set' }, xml('enable', { xmlns: NS_CARBONS }));
}

export function availablePresence(): Element {
  return xml('presence', {});
}

export function ping(to: string): Element {
  return xml('iq', { type: 'get', to }, xml('ping', { xmlns: NS_PING }));
}

/** A plain chat message (notifications). */
export function chatMessage(to: string, body: string, id: string): Element {
  return xml('message', { to, type: 'chat', id }, xml('body', {}, body));
}

/** The condition of a stanza error (`<error><item-not-found/></error>`, RFC 6120 §8.3). */
export function errorCondition(stanza: Element): string {
  const error = stanza.getChild('error');
  const cond = error?.getChildElements().find((c) => c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas');
  return cond?.name ?? 'undefined-condition';
}
