/** RabbitMQ transport, reached as `flowkeeper-headless/amqp` so core users never load amqplib. */
export { createAmqpTransport } from './amqpTransport';
export type { AmqpTransportOptions } from './options';
