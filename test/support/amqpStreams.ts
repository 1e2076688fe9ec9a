import * as amqp from 'amqplib';
import { historyTopology } from '../../src/transports/amqp/topology';

/** One message of a history's stream as a bare AMQP consumer sees it. */
export interface RawMessage {
  readonly offset: number;
  readonly body: string;
  readonly properties: amqp.MessageProperties;
}

/**
 * Reads a history's stream from the first entry up to `lastOffset` with a bare amqplib consumer
 * (below our transport: what the broker really stores, duplicates included). With `atLeast`, it
 * also waits until that many entries were read (a record published but not yet seen by any reader).
 */
export async function readRawStream(
  url: string,
  history: string,
  lastOffset: number,
  timeoutMs = 20_000,
  atLeast = 0,
): Promise<RawMessage[]> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.prefetch(1000);
    const out: RawMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`stream of '${history}' did not reach offset ${lastOffset} and ${atLeast} entries`)),
        timeoutMs,
      );
      ch.consume(
        historyTopology(history).queue,
        (msg) => {
          if (msg === null) return;
          ch.ack(msg);
          const offset = Number(msg.properties.headers?.['x-stream-offset']);
          out.push({ offset, body: msg.content.toString('utf8'), properties: msg.properties });
          if (offset >= lastOffset && out.length >= atLeast) {
            clearTimeout(timer);
            resolve();
          }
        },
        { arguments: { 'x-stream-offset': 'first' } },
      ).catch((err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
    return out;
  } finally {
    await conn.close();
  }
}

/** Deletes the stream queue and exchange of every history (test clean-up). */
export async function deleteHistories(url: string, histories: readonly string[]): Promise<void> {
  if (histories.length === 0) return;
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const h of histories) {
      const { queue, exchange } = historyTopology(h);
      await ch.deleteQueue(queue);
      await ch.deleteExchange(exchange);
    }
  } finally {
    await conn.close();
  }
}
