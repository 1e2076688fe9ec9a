/** RabbitMQ transport, reached as `flowkeeper-headless/amqp` so core users never load amqplib. */
export { createAmqpTransport } from './amqpTransport';
export type { AmqpTransportOptions } from './options';
/** Closes an amqplib connection without ever hanging (also used by the daemon's AMQP target). */
export { closeConnection } from './closeConnection';
/** Deletes a history's queue and exchange (fk serve's DeleteAccount). */
export { deleteAmqpHistory } from './deleteHistory';
