import { createHmac, timingSafeEqual } from 'node:crypto';

/** The webhook signature header: `sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret>`. */
export const SIGNATURE_HEADER = 'X-Fk-Signature';

/** Signs a webhook body (the exact bytes sent). */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Checks a received signature in constant time; what a webhook receiver does with the raw body
 * before parsing it.
 */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header);
  return got.length === expected.length && timingSafeEqual(got, expected);
}
