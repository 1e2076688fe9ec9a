import type { Duplex } from 'node:stream';
import type { ChannelModel } from 'amqplib';

/**
 * Closes an amqplib connection without ever hanging or throwing. amqplib 0.10 waits for the
 * broker's `connection.close-ok`, and once closing has started it ignores the socket ending
 * (`expectSocketClose`), so closing over a half-dead link (peer gone, network black hole) never
 * completes. We settle on whichever comes first: close-ok, the socket closing, or `timeoutMs`,
 * after which the socket is destroyed, so no handle is left open.
 */
export function closeConnection(conn: ChannelModel, timeoutMs: number): Promise<void> {
  const stream = (conn.connection as unknown as { stream?: Duplex }).stream;
  return new Promise<void>((resolve) => {
    if (stream === undefined || stream.destroyed) {
      conn.close().catch(() => undefined); // may never settle: nothing to wait for
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      stream.removeListener('close', done);
      resolve();
    };
    const timer = setTimeout(() => {
      stream.destroy();
      done();
    }, timeoutMs);
    stream.once('close', done);
    conn.close().then(done, done);
  });
}
