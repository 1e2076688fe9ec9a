import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger } from '../../../src/core/logger';
import { normalizeXmppOptions } from '../../../src/transports/xmpp/options';
import { openXmppConnection } from '../../../src/transports/xmpp/xmppConnection';
import { toTransportError } from '../../../src/transports/xmpp/xmppErrors';

const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
  "xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";

/** A TCP server that opens an XMPP stream, ends it, then sends bytes that are no longer XMPP. */
async function endingServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.once('data', () => {
      s.write(HEADER);
      s.write('</stream:stream>', () => s.write('<after-the-end/>'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, sockets };
}

describe('xmpp connection: a server that ends the stream while we sign in', () => {
  it('fails the connect at once with our message, and bytes after the end do not crash the process', async () => {
    const { server, port, sockets } = await endingServer();
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
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
        message: `xmpp connect to xmpp://127.0.0.1:${port} as 'u@localhost' failed: ` +
          'the server ended the XMPP stream while signing in',
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      sockets.forEach((s) => s.destroy());
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
