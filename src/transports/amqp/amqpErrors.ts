import { FkError, InputError, TransportError } from '../../core/errors';

/**
 * amqplib errors → our catalog, at the boundary (STYLE §4, §6). Channel and connection errors
 * carry the AMQP reply code in `code` (AMQP 0-9-1 §1.9, "Constants"); handshake failures do not,
 * so for those two cases we have to read amqplib's message, which is the only signal it gives.
 */

/** AMQP reply codes we react to. */
const ACCESS_REFUSED = 403;
const NOT_FOUND = 404;
const PRECONDITION_FAILED = 406;
const NOT_ALLOWED = 530;

function replyCode(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : null;
}

/** Not `instanceof Error`: errors from another realm (node internals under jest's vm) fail it. */
function messageOf(err: unknown): string {
  const message = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(err);
}

/** Wraps a failure of TCP connect + AMQP handshake to `endpoint` (`host:port/vhost`). */
export function wrapConnectError(err: unknown, endpoint: string, vhost: string): FkError {
  if (err instanceof FkError) return err;
  const where = `amqp connect to ${endpoint} failed`;
  const text = messageOf(err);
  const sysCode = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  // amqplib: "Handshake terminated by server: 403 (ACCESS-REFUSED) …" on bad credentials.
  if (/^Handshake terminated by server: 403\b/.test(text)) {
    return new TransportError('FK_AUTH_FAILED', `${where}: user name or password refused`, { cause: err });
  }
  // amqplib: "Expected ConnectionOpenOk; got <ConnectionClose …>": connection.open refused, i.e.
  // 530 NOT_ALLOWED, the user has no permissions on the vhost or the vhost does not exist.
  if (/^Expected ConnectionOpenOk; got <ConnectionClose/.test(text) || replyCode(err) === NOT_ALLOWED) {
    return new TransportError(
      'FK_ACCESS_DENIED',
      `${where}: access to vhost '${vhost}' refused (no permissions for this user, or no such vhost)`,
      { cause: err },
    );
  }
  if (sysCode === 'ETIMEDOUT' || text === 'connect ETIMEDOUT') {
    return new TransportError('FK_TRANSPORT_TIMEOUT', `${where}: timed out`, { cause: err, retryable: true });
  }
  return new TransportError('FK_TRANSPORT_UNAVAILABLE', `${where}: ${text}`, { cause: err, retryable: true });
}

/**
 * Wraps a failed broker operation (`op` like `declare queue`, `consume`, `publish to`) on the named
 * `resource` at `endpoint`.
 */
export function wrapOperationError(err: unknown, op: string, resource: string, endpoint: string): FkError {
  if (err instanceof FkError) return err;
  const where = `amqp ${op} '${resource}' at ${endpoint}`;
  switch (replyCode(err)) {
    case ACCESS_REFUSED:
      return new TransportError(
        'FK_ACCESS_DENIED',
        `${where} refused: this user has no permission on '${resource}' (see docs/amqp.md)`,
        { cause: err },
      );
    case PRECONDITION_FAILED:
      return new InputError(
        'FK_CONFIG_INVALID',
        `${where} failed: it exists with other settings (queue type or maxAge differ from the options)`,
        { cause: err },
      );
    case NOT_FOUND:
      return new TransportError('FK_TRANSPORT_UNAVAILABLE', `${where} failed: not found`, { cause: err, retryable: true });
    default:
      return new TransportError('FK_TRANSPORT_UNAVAILABLE', `${where} failed: ${messageOf(err)}`, {
        cause: err,
        retryable: true,
      });
  }
}

/** A short, credential-free reason for status events and logs. */
export function describeLoss(err: unknown): string {
  return messageOf(err).split('\n')[0] ?? 'connection lost';
}
