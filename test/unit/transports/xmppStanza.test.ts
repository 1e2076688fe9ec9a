import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/client';
import { createRowMerger } from '../../../src/transports/xmpp/archiveRows';
import {
  NS_CARBONS,
  NS_FORWARD,
  NS_MAM,
  NS_SID,
  bareOf,
  discoFeatures,
  errorCondition,
  isLastPage,
  mamQuery,
  ownMessage,
  parseMamResult,
  prefsArchiveSelf,
  readRecord,
  recordMessage,
  stanzaIdBy,
} from '../../../src/transports/xmpp/stanza';
import type { ArchiveRow } from '../../../src/transports/xmpp/stanza';

const ME = 'alice@example.org';

type XmlParser = { write(s: string): void; on(e: string, f: (el: Element) => void): void };

/** The stanza as the receiving side sees it: serialized, then parsed by @xmpp/xml's parser. */
function reparse(el: Element): Element {
  const { Parser } = xml as unknown as { Parser: new () => XmlParser };
  const parser = new Parser();
  let parsed: Element | undefined;
  parser.on('element', (e: Element) => (parsed = e));
  parser.write(`<stream>${el.toString()}`);
  if (!parsed || parsed === el) throw new Error('no element parsed');
  return parsed;
}

describe('record stanza mapping', () => {
  it.each([
    ['plain text', 'CreateBacklog("b1", "Sprint 1")'],
    ['markup characters', `<a href="x">&amp; 'q'</a>`],
    ['non-ASCII', 'é ✓ 😀 🍅'],
    ['leading and trailing spaces', '  spaced  '],
    ['an empty line', ''],
    ['a tab', 'a\tb'],
    ['CR and LF (base64)', 'a\r\nb'],
    ['C0 controls (base64)', '\u0000\u0001\u001f'],
    ['U+FFFF (base64)', 'x\uFFFFy'],
  ])('round-trips %s through the wire form', (_name, line) => {
    const msg = reparse(recordMessage(ME, line, { id: 'r1', seq: 7 }));
    expect(readRecord(msg)).toEqual({ line, id: 'r1', seq: 7 });
  });

  it('addresses the own bare JID as a bodyless chat message with origin-id and a store hint', () => {
    const msg = recordMessage(ME, 'x', { id: 'r1', seq: 1 });
    expect(msg.attrs).toMatchObject({ to: ME, type: 'chat', id: 'r1' });
    expect(msg.getChild('body')).toBeUndefined();
    expect(msg.getChild('origin-id', NS_SID)?.attrs.id).toBe('r1');
    expect(msg.getChild('store', 'urn:xmpp:hints')).toBeDefined();
  });

  it('uses base64 only when the line cannot travel verbatim', () => {
    expect(recordMessage(ME, 'plain', { id: 'a', seq: 1 }).getChild('record')?.attrs.encoding).toBeUndefined();
    expect(recordMessage(ME, 'a\rb', { id: 'a', seq: 1 }).getChild('record')?.attrs.encoding).toBe('base64');
  });

  it('rejects a line with an unpaired surrogate with FK_INPUT_INVALID', () => {
    expect(() => recordMessage(ME, 'a\uD800b', { id: 'r9', seq: 1 })).toThrow(
      expect.objectContaining({ code: 'FK_INPUT_INVALID' }),
    );
  });

  it('reads no record from a chat message or a malformed payload', () => {
    expect(readRecord(xml('message', {}, xml('body', {}, 'hi')))).toBeNull();
    expect(readRecord(xml('message', {}, xml('record', { xmlns: 'urn:flowkeeper:record:0' }, 'no id')))).toBeNull();
    expect(
      readRecord(
        xml('message', {}, xml('record', { xmlns: 'urn:flowkeeper:record:0', id: 'x', encoding: 'rot13' }, 'a')),
      ),
    ).toBeNull();
    expect(
      readRecord(
        xml('message', {}, xml('record', { xmlns: 'urn:flowkeeper:record:0', id: 'x', encoding: 'base64' }, '!!')),
      ),
    ).toBeNull();
  });

  it('reads a missing or malformed seq as null', () => {
    const msg = xml('message', {}, xml('record', { xmlns: 'urn:flowkeeper:record:0', id: 'x', seq: 'abc' }, 'l'));
    expect(readRecord(msg)).toEqual({ line: 'l', id: 'x', seq: null });
  });
});

describe('live copies', () => {
  const inner = xml(
    'message',
    { from: `${ME}/a`, to: ME, type: 'chat' },
    xml('stanza-id', { xmlns: NS_SID, by: ME, id: 'arch-2' }),
  );

  it('accepts a direct copy from one of our resources', () => {
    const direct = xml('message', { from: `${ME}/a`, to: `${ME}/b` });
    expect(ownMessage(direct, ME)).toBe(direct);
  });

  it('unwraps a carbon from our own bare JID', () => {
    const carbon = xml(
      'message',
      { from: ME, to: `${ME}/b` },
      xml('received', { xmlns: NS_CARBONS }, xml('forwarded', { xmlns: NS_FORWARD }, inner)),
    );
    expect(ownMessage(carbon, ME)).toBe(inner);
    expect(stanzaIdBy(inner, ME)).toBe('arch-2');
  });

  it('ignores carbons or messages from anyone else (XEP-0280 §11)', () => {
    const forged = xml(
      'message',
      { from: 'mallory@example.org', to: `${ME}/b` },
      xml('received', { xmlns: NS_CARBONS }, xml('forwarded', { xmlns: NS_FORWARD }, inner)),
    );
    expect(ownMessage(forged, ME)).toBeNull();
    const fromResource = xml(
      'message',
      { from: `${ME}/x`, to: `${ME}/b` },
      xml('sent', { xmlns: NS_CARBONS }, xml('forwarded', { xmlns: NS_FORWARD }, inner)),
    );
    expect(ownMessage(fromResource, ME)).toBeNull();
    expect(stanzaIdBy(inner, 'bob@example.org')).toBeNull();
  });

  it('compares JIDs by their bare, lowercased form', () => {
    expect(bareOf('Alice@Example.org/Res/with/slash')).toBe(ME);
  });
});

describe('archive queries', () => {
  it('asks for one page with this account, after the cursor', () => {
    const iq = mamQuery('q1', ME, 'arch-9', 50);
    const query = iq.getChild('query', NS_MAM);
    expect(query?.attrs.queryid).toBe('q1');
    expect(query?.getChild('set')?.getChildText('max')).toBe('50');
    expect(query?.getChild('set')?.getChildText('after')).toBe('arch-9');
    const fields = query?.getChild('x')?.getChildren('field') ?? [];
    expect(fields.map((f) => [f.attrs.var, f.getChildText('value')])).toEqual([
      ['FORM_TYPE', NS_MAM],
      ['with', ME],
    ]);
    expect(mamQuery('q2', ME, null, 50).getChild('query', NS_MAM)?.getChild('set')?.getChild('after')).toBeUndefined();
  });

  it('parses a result of its own query only', () => {
    const rec = recordMessage(ME, 'l', { id: 'r1', seq: 1 });
    const result = xml(
      'message',
      { to: `${ME}/a` },
      xml('result', { xmlns: NS_MAM, queryid: 'q1', id: 'arch-1' }, xml('forwarded', { xmlns: NS_FORWARD }, rec)),
    );
    expect(parseMamResult(result, 'q1')).toEqual({ archiveId: 'arch-1', record: { line: 'l', id: 'r1', seq: 1 } });
    expect(parseMamResult(result, 'q2')).toBeNull();
  });

  it('knows the last page from fin complete or an empty page', () => {
    const fin = (complete?: string): Element => xml('iq', { type: 'result' }, xml('fin', { xmlns: NS_MAM, complete }));
    expect(isLastPage(fin('true'), 3)).toBe(true);
    expect(isLastPage(fin(), 3)).toBe(false);
    expect(isLastPage(fin(), 0)).toBe(true);
  });
});

describe('server checks', () => {
  it('lists disco#info features', () => {
    const iq = xml(
      'iq',
      {},
      xml(
        'query',
        { xmlns: 'http://jabber.org/protocol/disco#info' },
        xml('feature', { var: NS_MAM }),
        xml('feature', { var: NS_SID }),
      ),
    );
    expect(discoFeatures(iq)).toEqual(new Set([NS_MAM, NS_SID]));
  });

  const prefs = (def: string, always: string[] = [], never: string[] = []): Element =>
    xml(
      'iq',
      {},
      xml(
        'prefs',
        { xmlns: NS_MAM, default: def },
        xml('always', {}, ...always.map((j) => xml('jid', {}, j))),
        xml('never', {}, ...never.map((j) => xml('jid', {}, j))),
      ),
    );
  it.each([
    ['always', [], [], true],
    ['roster', [], [], false],
    ['never', [], [], false],
    ['never', [ME], [], true],
    ['always', [], [ME], false],
  ])('default %s, always %j, never %j: stores messages to self = %s', (def, always, never, stored) => {
    expect(prefsArchiveSelf(prefs(def, always, never), ME).stored).toBe(stored);
  });

  it('reads the condition of a stanza error', () => {
    const err = xml(
      'message',
      { type: 'error' },
      xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })),
    );
    expect(errorCondition(err)).toBe('service-unavailable');
  });
});

describe('archive rows to entries', () => {
  const row = (archiveId: string, id: string | null, line = `line ${id}`): ArchiveRow => ({
    archiveId,
    record: id === null ? null : { line, id, seq: null },
  });
  const run = (rows: ArchiveRow[], window = 100): Array<[string, string | undefined]> => {
    const m = createRowMerger(window);
    const out = rows.flatMap((r) => m.push(r)).concat(m.flush());
    return out.map((e) => [e.position, e.id]);
  };

  it('merges the sent/received twins of a message to self at the second archive id', () => {
    expect(run([row('1', 'a'), row('2', 'a'), row('3', 'b'), row('4', 'b')])).toEqual([
      ['2', 'a'],
      ['4', 'b'],
    ]);
  });

  it('works when the server archives a message to self once', () => {
    expect(run([row('1', 'a'), row('2', 'b')])).toEqual([
      ['1', 'a'],
      ['2', 'b'],
    ]);
  });

  it('holds a record across a page boundary until its twin or the end', () => {
    const m = createRowMerger(100);
    expect(m.push(row('1', 'a'))).toEqual([]);
    expect(m.push(row('2', 'a'))).toEqual([{ line: 'line a', position: '2', id: 'a' }]);
    expect(m.push(row('3', 'b'))).toEqual([]);
    expect(m.flush()).toEqual([{ line: 'line b', position: '3', id: 'b' }]);
    expect(m.flush()).toEqual([]);
  });

  it('drops a re-sent duplicate and skips rows that are not records', () => {
    expect(
      run([
        row('1', 'a'),
        row('2', 'a'),
        row('3', null),
        row('4', 'b'),
        row('5', 'b'),
        row('6', 'a'),
        row('7', 'a'),
        row('8', 'c'),
      ]),
    ).toEqual([
      ['2', 'a'],
      ['5', 'b'],
      ['8', 'c'],
    ]);
  });

  it('remembers only a bounded window of ids', () => {
    expect(run([row('1', 'a'), row('2', 'b'), row('3', 'c'), row('4', 'a')], 2).map(([, id]) => id)).toEqual([
      'a',
      'b',
      'c',
      'a',
    ]);
  });
});
