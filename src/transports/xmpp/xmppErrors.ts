import { FkError, TransportError } from '../../core/errors';
import type { NormalizedXmppOptions } from './options';

/**
 * `@xmpp/client` and Node failures → our catalog, at the boundary (STYLE §4, §6): the message
 * says what a user can act on, `cause` keeps the original, `details.reason` its code.
 */

/** The most telling short text of a library error: its XMPP condition, Node code, or message. */
export function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; condition?: unknown };
    if (typeof e.condition === 'string') return e.condition;
    if (typeof e.code === 'string') return e.code;
    return e.message;
  }
  return String(err);
}

/** Node's codes for failures a user can act on, in words (issue 11.7: no raw library texts). */
const NETWORK_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is the XMPP server running and listening there?)',
  ECONNRESET: 'the connection was reset by the server or the network',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};
const TLS_REFUSED = 'TLS handshake refused by the server';
const UNTRUSTED = "the server's TLS certificate is not trusted (or does not name this domain)";
const TLS_FAILURES: Readonly<Record<string, string>> = {
  ERR_SSL_WRONG_VERSION_NUMBER:
    'TLS handshake failed: the server does not speak TLS on this port ' +
    '(xmpps:// is direct TLS, usually port 5223; xmpp:// uses STARTTLS on 5222)',
  SELF_SIGNED_CERT_IN_CHAIN: UNTRUSTED,
  DEPTH_ZERO_SELF_SIGNED_CERT: UNTRUSTED,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNTRUSTED,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNTRUSTED,
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: UNTRUSTED,
};

/** Maps a failure of `@xmpp/client` to our catalog (STYLE §4: wrap at the boundary, keep `cause`). */
export function toTransportError(err: unknown, opts: NormalizedXmppOptions): FkError {
  if (err instanceof FkError) return err;
  const account = `${opts.username}@${opts.domain}`;
  const name = err instanceof Error ? err.name : '';
  const cause = describeCause(err);
  if (name === 'SASLError') {
    return new TransportError('FK_AUTH_FAILED', `xmpp login as '${account}' at ${opts.service} failed: ${cause}`, {
      cause: err,
      retryable: false,
      details: { account, condition: cause },
    });
  }
  if (name === 'TimeoutError') {
    return new TransportError('FK_TRANSPORT_TIMEOUT', `xmpp connect to ${opts.service} timed out`, {
      cause: err,
      retryable: true,
    });
  }
  // Stream errors such as host-unknown name a configuration problem that retrying will not fix.
  const tls = TLS_FAILURES[cause] ?? (cause.startsWith('ERR_SSL_') ? TLS_REFUSED : undefined);
  const configProblem =
    name === 'StreamError' && ['host-unknown', 'not-authorized', 'policy-violation'].includes(cause);
  const permanent = tls !== undefined || configProblem;
  // @xmpp/client 0.14 can trip over its own socket, gone when a connection drops mid-handshake
  // ("Cannot read properties of null"): to a user, that is a lost connection, not a library text.
  const lost = err instanceof TypeError ? 'the connection was lost while signing in' : undefined;
  const words = tls ?? NETWORK_FAILURES[cause] ?? lost ?? cause;
  const message = `xmpp connect to ${opts.service} as '${account}' failed: ${words}`;
  return new TransportError('FK_TRANSPORT_UNAVAILABLE', message, {
    cause: err,
    retryable: !permanent,
    details: { service: opts.service, reason: cause },
  });
}
