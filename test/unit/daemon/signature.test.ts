import { createHmac } from 'node:crypto';
import { signBody, verifySignature } from '../../../src/daemon/signature';

describe('webhook signature', () => {
  const body =
    '{"id":"alice@example.org/w1/Pomodoro 1/work.finished@2026-06-10T10:25:00.000000Z","type":"work.finished"}';

  it('is sha256=<hex HMAC-SHA256 of the exact body> keyed by the secret', () => {
    // RFC 4231 test case 2 pins the primitive; the header adds only the 'sha256=' prefix.
    expect(signBody('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(signBody('s3cret', body)).toBe(`sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
  });

  it('verifies the body it signed and rejects a changed body, another secret or a missing header', () => {
    const sig = signBody('s3cret', body);
    expect(verifySignature('s3cret', body, sig)).toBe(true);
    expect(verifySignature('s3cret', body.replace('Pomodoro 1', 'Pomodoro 2'), sig)).toBe(false);
    expect(verifySignature('other', body, sig)).toBe(false);
    expect(verifySignature('s3cret', body, undefined)).toBe(false);
    expect(verifySignature('s3cret', body, 'sha256=00')).toBe(false);
  });
});
