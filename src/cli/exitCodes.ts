import { CryptoError, DomainError, FkError, InputError, ParseError, TransportError } from '../core/errors';

/** STYLE §6: 0 ok, 1 unexpected, 2 input/parse, 3 domain (bad history or rejected rule), 4 transport/crypto. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof InputError || err instanceof ParseError) return 2;
  if (err instanceof DomainError) return 3;
  if (err instanceof TransportError || err instanceof CryptoError) return 4;
  if (err instanceof FkError) return 1;
  return 1;
}
