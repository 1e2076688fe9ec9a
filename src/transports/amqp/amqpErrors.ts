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

/** `err.code` when it is a string (Node system and TLS errors: `ECONNREFUSED`, `ERR_SSL_…`). */
function systemCode(err: unknown): string | null {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : null;
}

/** TLS certificate verification failures (OpenSSL `X509_V_ERR_*` names as Node reports them). */
const UNTRUSTED_CERT = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A library or system failure in words a user can act on, and whether retrying can help. Library
 * texts ("Channel ended, no reply will be forthcoming", OpenSSL's "ssl3_get_record:wrong version
 * number") never reach the user as they are (issue 11.7); `cause` keeps the original.
 */
export interface LibraryFailure {
  readonly reason: string;
  readonly retryable: boolean;
  /** Short tag for `details.reason` and logs. */
  readonly kind: 'tls-not-tls' | 'tls-untrusted' | 'tls-refused' | 'not-amqp' | 'lost' | 'network' | 'other';
}

export function explainFailure(err: unknown, tls: boolean): LibraryFailure {
  const code = systemCode(err);
  const text = messageOf(err);
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return {
      kind: 'tls-not-tls',
      retryable: false,
      reason:
        'TLS handshake failed: the server does not speak TLS on this port ' +
        '(amqps:// is usually port 5671, amqp:// 5672)',
    };
  }
  if (code !== null && UNTRUSTED_CERT.has(code)) {
    return {
      kind: 'tls-untrusted',
      retryable: false,
      reason:
        `the broker's TLS certificate is not trusted (${code}): ` +
        'set the CA certificate (amqp.caFile or FK_AMQP_CA_FILE) or check the host name',
    };
  }
  if (code !== null && code.startsWith('ERR_SSL_')) {
    const alert = code
      .replace(/^ERR_SSL_(TLSV\d+_|SSLV3_)?(ALERT_)?/, '')
      .toLowerCase()
      .replace(/_/g, ' ');
    return {
      kind: 'tls-refused',
      retryable: false,
      reason:
        `TLS handshake refused (${alert}): ` +
        'the broker may require a client certificate (amqp.certFile and amqp.keyFile)',
    };
  }
  if (tls && code === 'ECONNRESET' && /before secure TLS connection/.test(text)) {
    return {
      kind: 'tls-not-tls',
      retryable: false,
      reason: 'TLS handshake failed: the server closed the connection (is this a TLS port? amqps:// is usually 5671)',
    };
  }
  // amqplib: the server hung up before finishing the AMQP handshake (not an AMQP port, or a proxy
  // or load balancer in front of a broker that is down).
  if (/^Socket closed abruptly during opening handshake/.test(text)) {
    return {
      kind: 'not-amqp',
      retryable: true,
      reason: 'the server closed the connection during the AMQP handshake (is this the AMQP port of RabbitMQ?)',
    };
  }
  // amqplib, when the connection drops under a pending request or a closed channel is used.
  if (/^(Channel ended, no reply will be forthcoming|Channel closed|Connection closed|Connection closing)/.test(text)) {
    return { kind: 'lost', retryable: true, reason: 'the connection was lost' };
  }
  if (/^Heartbeat timeout/.test(text)) {
    return { kind: 'lost', retryable: true, reason: 'the connection was lost (no heartbeat from the broker)' };
  }
  const network: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is RabbitMQ running and listening there?)',
    ECONNRESET: 'the connection was reset by the server or the network',
    EPIPE: 'the connection was lost',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed (DNS)',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
  };
  if (code !== null && network[code] !== undefined) {
    return { kind: 'network', retryable: true, reason: network[code] as string };
  }
  return { kind: 'other', retryable: true, reason: text.split('\n')[0] ?? text };
}

/** Wraps a failure of TCP connect + AMQP handshake to `endpoint` (`host:port/vhost`). */
export function wrapConnectError(err: unknown, endpoint: string, vhost: string, tls = false): FkError {
  if (err instanceof FkError) return err;
  const where = `amqp connect to ${endpoint} failed`;
  const text = messageOf(err);
  const sysCode = systemCode(err);
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
  const failure = explainFailure(err, tls);
  return new TransportError('FK_TRANSPORT_UNAVAILABLE', `${where}: ${failure.reason}`, {
    cause: err,
    retryable: failure.retryable,
    details: { reason: failure.kind },
  });
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
      return new TransportError('FK_TRANSPORT_UNAVAILABLE', `${where} failed: not found`, {
        cause: err,
        retryable: true,
      });
    default: {
      const failure = explainFailure(err, false);
      const plainLoss = failure.reason === 'the connection was lost';
      const message =
        failure.kind === 'lost'
          ? `amqp connection to ${endpoint} lost during ${op} '${resource}'${plainLoss ? '' : `: ${failure.reason}`}`
          : `${where} failed: ${failure.reason}`;
      return new TransportError('FK_TRANSPORT_UNAVAILABLE', message, {
        cause: err,
        retryable: failure.retryable,
        details: { reason: failure.kind },
      });
    }
  }
}

/** A short, credential-free reason for status events and logs. */
export function describeLoss(err: unknown): string {
  if (err instanceof FkError) return err.message;
  return explainFailure(err, false).reason;
}

/** The errors of a transport's own state (closed, offline, read-only), naming its history. */
export interface TransportErrors {
  /** `FK_TRANSPORT_CLOSED`: `op` was called on (or waited across) a closed transport. */
  closed(op: string): TransportError;
  /** `FK_TRANSPORT_UNAVAILABLE`, retryable: `op` needs a connection and there is none now. */
  offline(op: string): TransportError;
  /** `FK_READ_ONLY`: a publish on a read-only transport. */
  readOnly(): TransportError;
}

export function transportErrors(history: string, endpoint: string): TransportErrors {
  return {
    closed: (op) =>
      new TransportError('FK_TRANSPORT_CLOSED', `amqp transport for history '${history}' is closed (${op})`),
    offline: (op) =>
      new TransportError(
        'FK_TRANSPORT_UNAVAILABLE',
        `amqp transport for history '${history}' at ${endpoint} is not connected (${op})`,
        { retryable: true },
      ),
    readOnly: () =>
      new TransportError('FK_READ_ONLY', `amqp transport for history '${history}' is read-only: nothing is written`),
  };
}
