import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { DomainError, FkError } from '../../core/errors';
import { wrapOperationError } from './amqpErrors';
import { closeChannel } from './closeConnection';
import type { HistoryTopology } from './topology';

/**
 * Setting up a history's topology after every (re)connect (STYLE §4: redeclared from data).
 *
 * - Read-write: declare the exchange and the stream queue and bind them (configure, write and
 *   read permission; a declare of an existing, identical object is still a configure operation).
 * - Read-only (`--read-only`): a passive `queue.declare` only, which needs no permission at all
 *   (RabbitMQ access control: passive declares are not checked), so a user with nothing but read
 *   permission on the queue can follow a history. A queue that does not exist is refused: fk
 *   creates nothing in read-only mode.
 */
export async function declareTopology(pub: ConfirmChannel, topology: HistoryTopology, endpoint: string): Promise<void> {
  let step = 'declare exchange';
  let resource = topology.exchange;
  try {
    await pub.assertExchange(topology.exchange, topology.exchangeType, { durable: true, autoDelete: false });
    step = 'declare queue';
    resource = topology.queue;
    await pub.assertQueue(topology.queue, { durable: true, arguments: { ...topology.queueArguments } });
    step = 'bind queue';
    await pub.bindQueue(topology.queue, topology.exchange, topology.routingKey);
  } catch (err) {
    throw wrapOperationError(err, step, resource, endpoint);
  }
}

/** The read-only check: the stream exists (a passive declare on a channel of its own). */
export async function checkTopology(
  conn: ChannelModel,
  topology: HistoryTopology,
  endpoint: string,
  closeTimeoutMs: number,
): Promise<void> {
  let closed = false;
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined); // a 404 closes the channel; the rejected RPC reports it
    ch.on('close', () => (closed = true));
    await ch.checkQueue(topology.queue);
    if (!closed) await closeChannel(ch, closeTimeoutMs);
  } catch (err) {
    if (!(err instanceof FkError) && (err as { code?: unknown }).code === 404) {
      throw new DomainError(
        'FK_NOT_FOUND',
        `no history '${topology.queue}' at ${endpoint} (read-only: fk does not create one)`,
        { cause: err, details: { queue: topology.queue } },
      );
    }
    throw wrapOperationError(err, 'check queue', topology.queue, endpoint);
  }
}
