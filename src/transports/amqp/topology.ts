/**
 * Pure naming of the broker objects that hold one user's history (STYLE §4: the topology is data,
 * redeclared from here after every (re)connect, never ad hoc in `publish`).
 *
 * One history = one durable fanout exchange and one durable stream queue, both named
 * `fk.history.<history>`, bound together. Publishing goes through the history's own exchange and
 * not the default exchange, because RabbitMQ checks `write` permission on the exchange a message
 * is published to: with the default exchange, anyone could write to anyone's queue. With one
 * name for both objects, a single anchored regex (`permissionPattern`) grants a user configure,
 * write and read on exactly their history (see docs/amqp.md).
 */

/** Allowed history names: Flowkeeper user names are often e-mail addresses. */
export const HISTORY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/** Prefix of every exchange and queue this transport declares. */
export const HISTORY_PREFIX = 'fk.history.';

/** Value of `x-max-age` (RabbitMQ syntax: a positive integer and a unit Y, M, D, h, m or s). */
export const MAX_AGE_PATTERN = /^[1-9][0-9]{0,8}(Y|M|D|h|m|s)$/;

export interface HistoryTopology {
  /** The history name, as given. */
  readonly history: string;
  /** Durable fanout exchange that `publish` writes to. */
  readonly exchange: string;
  readonly exchangeType: 'fanout';
  /** Durable stream queue holding the history, bound to `exchange`. */
  readonly queue: string;
  /** Routing key used for publishing and binding (ignored by fanout, kept explicit). */
  readonly routingKey: string;
  /** `queue.declare` arguments: a stream, optionally with retention. */
  readonly queueArguments: Readonly<Record<string, string>>;
  /**
   * Anchored regex matching exactly `exchange` and `queue` (they share one name), for
   * `rabbitmqctl set_permissions` configure/write/read.
   */
  readonly permissionPattern: string;
}

/** True when `name` can be used as a history name. */
export function isValidHistoryName(name: string): boolean {
  return HISTORY_NAME_PATTERN.test(name);
}

/** Escapes every regex metacharacter, so a name can sit inside a permission regex. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Names and arguments of the broker objects of one history. Assumes `history` passed
 * `isValidHistoryName` and `maxAge` (when set) matches `MAX_AGE_PATTERN`; `normalizeAmqpOptions`
 * checks both.
 */
export function historyTopology(history: string, maxAge?: string): HistoryTopology {
  const name = `${HISTORY_PREFIX}${history}`;
  const queueArguments: Record<string, string> = { 'x-queue-type': 'stream' };
  if (maxAge !== undefined) queueArguments['x-max-age'] = maxAge;
  return {
    history,
    exchange: name,
    exchangeType: 'fanout',
    queue: name,
    routingKey: '',
    queueArguments,
    permissionPattern: `^${escapeRegex(name)}$`,
  };
}
