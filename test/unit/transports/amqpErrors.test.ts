import { TransportError } from '../../../src/core/errors';
import { explainFailure, wrapConnectError, wrapOperationError } from '../../../src/transports/amqp/amqpErrors';

/** An error shaped like Node's (system and TLS errors carry a string `code`). */
const nodeError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('amqp errors: library texts become fk messages (issue 11.7)', () => {
  it.each([
    [
      'ERR_SSL_WRONG_VERSION_NUMBER',
      '0A00010B:SSL routines:ssl3_get_record:wrong version number',
      'tls-not-tls',
      false,
    ],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain', 'tls-untrusted', false],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", 'tls-untrusted', false],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required', 'tls-refused', false],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5672', 'network', true],
  ] as const)('%s → %s', (code, message, kind, retryable) => {
    const failure = explainFailure(nodeError(code, message), true);
    expect(failure).toMatchObject({ kind, retryable });
    expect(failure.reason).not.toContain(message);
  });

  it('names the TLS alert a broker sent', () => {
    expect(explainFailure(nodeError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'x'), true).reason).toContain(
      '(certificate required)',
    );
  });

  it('wraps a lost connection under a pending request as "lost during <op>", keeping the cause', () => {
    const cause = new Error('Channel ended, no reply will be forthcoming');
    const err = wrapOperationError(cause, 'declare queue', 'fk.history.a', 'h:5672/');
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({
      code: 'FK_TRANSPORT_UNAVAILABLE',
      retryable: true,
      message: "amqp connection to h:5672/ lost during declare queue 'fk.history.a'",
      cause,
    });
  });

  it('keeps the documented auth and vhost messages', () => {
    expect(
      wrapConnectError(new Error('Handshake terminated by server: 403 (ACCESS-REFUSED)'), 'h:5672/', '/'),
    ).toMatchObject({
      code: 'FK_AUTH_FAILED',
    });
    expect(
      wrapConnectError(new Error('Expected ConnectionOpenOk; got <ConnectionClose …>'), 'h:5672/', 'v'),
    ).toMatchObject({
      code: 'FK_ACCESS_DENIED',
    });
  });
});
