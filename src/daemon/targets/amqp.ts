import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { TransportError } from '../../core/errors';
import type { FkEvent } from '../../core/notify/notifications';
import type { Logger } from '../../core/logger';
import { redactBackend } from '../../app/config';
import type { AmqpTargetConfig } from '../options';
import type { Target } from './target';

/**
 * Topic routing key of an event: `fk.<user>.<event type>`. Dots in the user become `_`, so the
 * user is one word and bindings like `fk.*.work.finished` or `fk.alice@example_org.#` work.
 */
export function routingKeyOf(event: FkEvent): string {
  return `fk.${event.user.replace(/[.*#]/g, '_')}.${event.type}`;
}

/**
 * Publishes each event to a durable topic exchange (declared on every connect) as a persistent
 * JSON message with `messageId` = the event id, and waits for the broker's publisher confirm.
 * The connection is opened on first use and dropped on any error; the next attempt reconnects,
 * so reconnection rides on the delivery loop's backoff.
 */
/** amqplib and the transport's helpers, loaded on first use (a daemon without an AMQP target never loads them). */
const libs = async () => ({ amqp: await import('amqplib'), transport: await import('../../transports/amqp') });

export function createAmqpTarget(cfg: AmqpTargetConfig, logger: Logger): Target {
  const log = logger.child({ component: 'amqp-target', target: cfg.name, endpoint: redactBackend(cfg.url) });
  let conn: ChannelModel | null = null;
  let channel: Promise<ConfirmChannel> | null = null;
  const fail = (message: string, cause?: unknown): TransportError =>
    new TransportError(
      'FK_TRANSPORT_UNAVAILABLE',
      `amqp target '${cfg.name}' (${redactBackend(cfg.url)}): ${message}`,
      { retryable: true, ...(cause ? { cause } : {}) },
    );

  function reset(): void {
    const c = conn;
    conn = null;
    channel = null;
    if (c) void libs().then(({ transport }) => transport.closeConnection(c, 2000));
  }

  async function open(): Promise<ConfirmChannel> {
    const { amqp } = await libs();
    const c = await amqp.connect(cfg.url, { timeout: cfg.timeoutMs });
    conn = c;
    c.on('error', (err: unknown) => log.warn({ err }, 'connection error'));
    c.on('close', () => {
      if (conn === c) {
        conn = null;
        channel = null;
      }
    });
    const ch = await c.createConfirmChannel();
    ch.on('error', (err: unknown) => log.warn({ err }, 'channel error'));
    ch.on('close', () => {
      if (conn === c) reset();
    });
    await ch.assertExchange(cfg.exchange, 'topic', { durable: true });
    log.info({ exchange: cfg.exchange }, 'connected');
    return ch;
  }

  return {
    name: cfg.name,
    type: 'amqp',
    events: cfg.events,
    retry: cfg.retry,
    dedupeKey: cfg.dedupeKey,
    async deliver(event: FkEvent, body: string): Promise<void> {
      if (channel === null) channel = open();
      let ch: ConfirmChannel;
      try {
        ch = await channel;
      } catch (err) {
        reset();
        throw fail('connect failed', err);
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          new Promise<void>((resolve, reject) => {
            ch.publish(
              cfg.exchange,
              routingKeyOf(event),
              Buffer.from(body),
              {
                persistent: true,
                contentType: 'application/json',
                messageId: event.id,
                type: event.type,
                timestamp: Math.floor(Date.now() / 1000),
              },
              (err) => (err ? reject(fail('publish not confirmed', err)) : resolve()),
            );
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(fail(`no confirm within ${cfg.timeoutMs} ms`)), cfg.timeoutMs);
          }),
        ]);
      } catch (err) {
        reset();
        throw err instanceof TransportError ? err : fail('publish failed', err);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      const c = conn;
      conn = null;
      channel = null;
      if (c) await (await libs()).transport.closeConnection(c, 2000);
    },
  };
}
