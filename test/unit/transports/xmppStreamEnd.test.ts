import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger } from '../../../src/core/logger';
import { normalizeXmppOptions } from '../../../src/transports/xmpp/options';
import { openXmppConnection } from '../../../src/transports/xmpp/xmppConnection';
import { toTransportError } from '../../../src/transports/xmpp/xmppErrors';

const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
  "xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";

/**
 * A TCP server that opens an XMPP stream, ends it, then sends bytes that are no longer XMPP, and
 * with `reset` then resets the connection (the library's own start fails after ours was decided).
 */
async function endingServer(reset = false): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.once('data', () => {
      s.write(HEADER);
      s.write('</stream:stream>', () =>
        s.write('<after-the-end/>', () => (reset ? s.resetAndDestroy() : undefined)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, sockets };
}

describe('xmpp connection: a server that ends the stream while we sign in', () => {
  it.each([false, true])(
    'fails the connect at once with our message; nothing after it crashes the process (reset: %s)',
    async (reset) => {
      const { server, port, sockets } = await endingServer(reset);
      const uncaught: unknown[] = [];
      const onUncaught = (err: unknown): void => void uncaught.push(err);
      process.on('uncaughtException', onUncaught);
      process.on('unhandledRejection', onUncaught);
      try {
        const opts = normalizeXmppOptions({
          service: `xmpp://127.0.0.1:${port}`,
          domain: 'localhost',
          username: 'u',
          password: 'p',
          connectTimeoutMs: 30_000,
        });
        const conn = openXmppConnection(opts, silentLogger, {}, false);
        await expect(conn.start()).rejects.toMatchObject({
          code: 'FK_TRANSPORT_UNAVAILABLE',
          message:
            `xmpp connect to xmpp://127.0.0.1:${port} as 'u@localhost' failed: ` +
            'the server ended the XMPP stream while signing in',
        });
        // Once the server has seen its side close, the client's socket has failed too (its late error).
      await Promise.all(sockets.map((so) => (so.closed ? null : new Promise((r) => so.once('close', r)))));
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
        expect(uncaught).toEqual([]);
      } finally {
        process.off('uncaughtException', onUncaught);
        process.off('unhandledRejection', onUncaught);
        sockets.forEach((s) => s.destroy());
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );

  it('a connection reset while the stream opens fails the connect once, with no stray rejection', async () => {
    const sockets: Socket[] = [];
    const server = createServer((so) => {
      sockets.push(so);
      so.on('error', () => undefined);
      so.once('data', () => so.resetAndDestroy()); // our stream header gets a reset, not an answer
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const stray: unknown[] = [];
    const onStray = (err: unknown): void => void stray.push(err);
    process.on('unhandledRejection', onStray);
    try {
      const opts = normalizeXmppOptions({ service: `xmpp://127.0.0.1:${port}`, username: 'u', password: 'p' });
      const conn = openXmppConnection(opts, silentLogger, {}, false);
      await expect(conn.start()).rejects.toMatchObject({ code: 'FK_TRANSPORT_UNAVAILABLE' });
      await Promise.all(sockets.map((so) => (so.closed ? null : new Promise((r) => so.once('close', r)))));
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(stray).toEqual([]);
    } finally {
      process.off('unhandledRejection', onStray);
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('words a library TypeError from a dropped handshake as a lost connection', () => {
    const opts = normalizeXmppOptions({ service: 'xmpp://127.0.0.1:5222', username: 'u', password: 'p' });
    const err = toTransportError(new TypeError("Cannot read properties of null (reading 'write')"), opts);
    expect(err.message).toBe(
      "xmpp connect to xmpp://127.0.0.1:5222 as 'u@127.0.0.1' failed: the connection was lost while signing in",
    );
  });
});
