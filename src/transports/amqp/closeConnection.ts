import type { Duplex } from 'node:stream';
import type { Channel, ChannelModel } from 'amqplib';

/** The parts of amqplib's connection we need that its typed API does not show (amqplib 0.10). */
interface ConnectionInternals {
  readonly stream?: Duplex;
  readonly heartbeater?: { clear(): void };
}

function internalsOf(conn: ChannelModel): ConnectionInternals {
  return conn.connection as unknown as ConnectionInternals;
}

/**
 * Gives up the socket: destroys it and stops amqplib's heartbeat intervals. amqplib stops them
 * only when it sees the connection close; once its own close has started it ignores the socket
 * ending, so a connection dropped by us while closing would keep two intervals running forever
 * and the process would never exit (issue 11.3: a command that had succeeded never exited).
 */
function releaseSocket(conn: ChannelModel): void {
  const { stream, heartbeater } = internalsOf(conn);
  // With an error, so that amqplib (if it was not closing yet) moves the connection and its
  // channels to closed and emits `close`, which fails whatever still waits for a reply.
  if (stream !== undefined && !stream.destroyed) stream.destroy(new Error('connection dropped by fk'));
  heartbeater?.clear();
}

/**
 * Closes an amqplib connection without ever hanging or throwing. amqplib 0.10 waits for the
 * broker's `connection.close-ok`, and once closing has started it ignores the socket ending
 * (`expectSocketClose`), so closing over a half-dead link (peer gone, network black hole) never
 * completes. We settle on whichever comes first: close-ok, the socket closing, or `timeoutMs`,
 * after which the socket is destroyed, so no handle is left open.
 */
export function closeConnection(conn: ChannelModel, timeoutMs: number): Promise<void> {
  const { stream } = internalsOf(conn);
  return new Promise<void>((resolve) => {
    if (stream === undefined || stream.destroyed) {
      conn.close().catch(() => undefined); // may never settle: nothing to wait for
      releaseSocket(conn);
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      stream.removeListener('close', done);
      // close-ok came (or the close failed, or no answer): never leave our side open.
      releaseSocket(conn);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    stream.once('close', done);
    conn.close().then(done, done);
  });
}

/** Drops a connection at once, without the close handshake: for a link known to be dead. */
export function destroyConnection(conn: ChannelModel): void {
  releaseSocket(conn);
}

/**
 * Closes a channel without ever hanging or throwing; resolves true on the broker's close-ok,
 * false otherwise. amqplib's `channel.close()` settles only on `channel.close-ok`: when the
 * connection drops meanwhile, the channel is moved to closed (its `close` event fires) but the
 * promise never settles (amqplib 0.10.9 `Channel#toClosed` does not call the pending close's
 * continuation). So we settle on close-ok, on the channel's `close` event, or after `timeoutMs`
 * (a silent link), whichever comes first. False means the link is suspect: the caller decides.
 */
export function closeChannel(ch: Channel, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const finish = (clean: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ch.removeListener('close', onClose);
      resolve(clean);
    };
    // On close-ok amqplib resolves the close promise and then, synchronously, emits `close`:
    // let the promise's handler (a microtask) win that race.
    const onClose = (): void => {
      setImmediate(() => finish(false));
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    ch.once('close', onClose);
    try {
      ch.close().then(
        () => finish(true),
        () => finish(false),
      );
    } catch {
      finish(false); // already closed or closing
    }
  });
}
