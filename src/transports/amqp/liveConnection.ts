import * as amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { Logger } from '../../core/logger';
import { TransportError } from '../../core/errors';
import { wrapConnectError, wrapOperationError } from './amqpErrors';
import { closeConnection } from './closeConnection';
import type { NormalizedAmqpOptions } from './options';
import { checkTopology, declareTopology } from './topologySetup';

/** One AMQP connection and its confirm channel; replaced as a whole on every reconnect. */
export interface Live {
  readonly conn: ChannelModel;
  /** The confirm channel publishes go out on (null in read-only mode). */
  pub: ConfirmChannel | null;
  /** Set once by the first `error`/`close` of the connection or of one of its channels. */
  lost: boolean;
}

export interface LiveHooks {
  /** The funnel of every `error`/`close` of the connection and its publish channel. */
  readonly onLost: (l: Live, err: Error) => void;
  /** Called as soon as the connection exists, before the topology is set up (so close() can end it). */
  readonly onOpened: (l: Live) => void;
  /** True once the transport was closed meanwhile. */
  readonly isClosed: () => boolean;
  /** The error to throw when the transport was closed meanwhile. */
  readonly closedError: () => Error;
}

/**
 * Connects, opens the confirm channel and sets the topology up (`topologySetup.ts`); in
 * read-only mode only checks that the stream exists. Every failure is one of our errors (the
 * connection is then closed, within `closeTimeoutMs`).
 */
export async function openLiveConnection(
  opts: NormalizedAmqpOptions,
  log: Logger,
  closeTimeoutMs: number,
  hooks: LiveHooks,
): Promise<Live> {
  const { topology, endpoint } = opts;
  let conn: ChannelModel;
  try {
    conn = await amqp.connect(opts.connect, {
      timeout: opts.connectTimeoutMs,
      clientProperties: { connection_name: `fk ${opts.history}` },
      ...opts.tls,
    });
  } catch (err) {
    throw wrapConnectError(err, endpoint, opts.vhost, opts.connect.protocol === 'amqps');
  }
  const l: Live = { conn, pub: null, lost: false };
  conn.on('error', (err: Error) => hooks.onLost(l, err));
  conn.on('close', (err?: Error) => hooks.onLost(l, err ?? new Error('connection closed')));
  conn.on('blocked', (reason: unknown) => log.warn({ reason: String(reason) }, 'connection blocked by broker'));
  conn.on('unblocked', () => log.info({}, 'connection unblocked'));
  if (hooks.isClosed()) {
    await closeConnection(conn, closeTimeoutMs);
    throw hooks.closedError();
  }
  hooks.onOpened(l);
  try {
    if (opts.readOnly) await checkTopology(conn, topology, endpoint, closeTimeoutMs);
    else {
      const pub = await conn.createConfirmChannel();
      // Prepended so `lost` is set before amqplib fails the unconfirmed callbacks on close:
      // those publishes are then kept for re-publishing instead of being rejected as nacked.
      pub.prependListener('close', () => hooks.onLost(l, new Error('publish channel closed')));
      pub.on('error', (err: Error) => hooks.onLost(l, err));
      l.pub = pub;
      await declareTopology(pub, topology, endpoint);
    }
  } catch (err) {
    l.lost = true;
    await closeConnection(conn, closeTimeoutMs);
    throw hooks.isClosed() ? hooks.closedError() : wrapOperationError(err, 'open channel on', topology.queue, endpoint);
  }
  if (l.lost) {
    throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `amqp connection to ${endpoint} lost while opening`, {
      retryable: true,
    });
  }
  return l;
}
