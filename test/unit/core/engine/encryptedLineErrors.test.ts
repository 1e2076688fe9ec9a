import { Writable } from 'node:stream';
import { createClient } from '../../../../src/core/client';
import { createFernetCipher } from '../../../../src/core/crypto';
import type { Logger } from '../../../../src/core/logger';
import { replay } from '../../../../src/core/engine/replay';
import { parseInstant } from '../../../../src/core/engine/time';
import { createMemoryHub, createMemoryTransport } from '../../../../src/transports/memory';

/**
 * Issue 11 item 13: the plaintext of an encrypted record that fails to parse must not reach an
 * error message, its details or a debug log (the key holder's data, shown to whoever reads logs).
 */
const SECRET = 'TOPSECRET';
const cipher = createFernetCipher(new Uint8Array(32).fill(3));
const enc = (plain: string): string => cipher.encryptLine(plain, { seq: 1, user: 'u@x' });
const NOW = parseInstant('2026-06-10T12:00:00Z')!;
const FIRST = '1, 2026-06-10 09:00:00+00:00, admin@local.host: CreateUser("u@x", "U")';
const BROKEN = [
  `2, 2026-06-10 09:01:00+00:00, u@x: CreateBacklog("b1", "${SECRET}`, // bad syntax
  `2, 2026-06-10 09:01:00+00:00, u@x: ${SECRET}Backlog("b1", "x")`, // unknown strategy
  `2, ${SECRET}, u@x: CreateBacklog("b1", "x")`, // bad timestamp
];

const leaks = (v: unknown): boolean =>
  JSON.stringify(v, (_k, x: unknown) =>
    x instanceof Error ? { message: x.message, details: (x as { details?: unknown }).details } : x,
  ).includes(SECRET);

describe('errors about encrypted records never carry their plaintext', () => {
  it.each(BROKEN)('strict replay: %s', (plain) => {
    let err: unknown = null;
    try {
      replay([enc(FIRST), enc(plain)], { now: NOW, cipher });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ lineNumber: 2 });
    expect(leaks(err)).toBe(false);
  });

  it.each(BROKEN)('lenient replay lists the line without its content: %s', (plain) => {
    const state = replay([enc(FIRST), enc(plain)], { now: NOW, cipher, mode: 'lenient' });
    expect(state.skipped).toHaveLength(1);
    expect(leaks(state.skipped)).toBe(false);
  });

  it('still quotes a plaintext line, which the reader can see anyway', () => {
    expect(() => replay([FIRST, BROKEN[0]!], { now: NOW })).toThrow(SECRET);
  });

  it('a client reading such a record: neither its history error nor its debug log holds the plaintext', async () => {
    const hub = createMemoryHub();
    const writer = createMemoryTransport(hub);
    await writer.connect();
    await writer.publish(enc(FIRST), { id: 'a', seq: 1 });
    await writer.publish(enc(BROKEN[0]!), { id: 'b', seq: 2 });
    let logged = '';
    const sink = new Writable({ write: (c: Buffer, _e, cb) => ((logged += c.toString()), cb()) });
    const client = createClient({
      transport: createMemoryTransport(hub),
      user: 'u@x',
      cipher,
      sequencing: 'strict',
      logger: jsonLogger(sink),
    });
    await client.start();
    expect(client.historyError).toMatchObject({ lineNumber: 2 });
    expect(leaks(client.historyError)).toBe(false);
    expect(logged).toContain('history unreadable');
    expect(logged).not.toContain(SECRET);
    await client.close();
    await writer.close();
  });
});

/** A minimal structural Logger writing JSON lines at every level (what pino's serializers would see). */
function jsonLogger(out: Writable, bindings: Record<string, unknown> = {}): Logger {
  const write = (level: string) => (obj: unknown, msg?: string) => {
    const o = typeof obj === 'string' ? { msg: obj } : { ...(obj as object), msg };
    const errorFields = (_k: string, x: unknown): unknown =>
      x instanceof Error ? { message: x.message, details: (x as { details?: unknown }).details } : x;
    out.write(`${JSON.stringify({ level, ...bindings, ...o }, errorFields)}\n`);
  };
  return {
    trace: write('trace'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    fatal: write('fatal'),
    child: (b: Record<string, unknown>) => jsonLogger(out, { ...bindings, ...b }),
  } as unknown as Logger;
}
