import * as amqp from 'amqplib';
import { closeConnection } from './closeConnection';
import { wrapConnectError, wrapOperationError } from './amqpErrors';
import { normalizeAmqpOptions, type AmqpTransportOptions } from './options';

/**
 * Deletes a history's stream queue and exchange (`fk serve`'s DeleteAccount), with the
 * credentials in `options.url`: the broker checks `configure` permission on both, so an account
 * can delete its own history and nobody else's. Deleting what does not exist succeeds.
 * Close every transport onto the history first: a live consumer would redeclare it.
 */
export async function deleteAmqpHistory(options: AmqpTransportOptions): Promise<void> {
  const opts = normalizeAmqpOptions(options);
  let conn: amqp.ChannelModel;
  try {
    conn = await amqp.connect(opts.connect, {
      timeout: opts.connectTimeoutMs,
      clientProperties: { connection_name: `fk delete ${opts.history}` },
    });
  } catch (err) {
    throw wrapConnectError(err, opts.endpoint, opts.vhost);
  }
  conn.on('error', () => undefined);
  let step = 'delete queue';
  let resource = opts.topology.queue;
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.deleteQueue(opts.topology.queue);
    step = 'delete exchange';
    resource = opts.topology.exchange;
    await ch.deleteExchange(opts.topology.exchange);
  } catch (err) {
    throw wrapOperationError(err, step, resource, opts.endpoint);
  } finally {
    await closeConnection(conn, 5_000);
  }
}
