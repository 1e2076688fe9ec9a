import type { Transport } from '../core/transport';

/**
 * Where `fk serve` keeps histories and how it checks credentials: one implementation per backend
 * (`backends/file.ts`, `backends/amqp.ts`, `backends/xmpp.ts`). One history per account, named
 * like the CLI names them (`app/historyName.ts`), stored through the ordinary transports: the
 * server is a gateway, not a store of its own.
 */
export interface ServeBackend {
  readonly kind: 'file' | 'amqp' | 'xmpp' | 'memory';
  /** Where, for logs and `/status` (no credentials). */
  readonly where: string;
  /**
   * Checks an account's credentials: the access to its history, or null when they are wrong
   * (unknown account and wrong password are not told apart). Rejects when the check itself could
   * not be made (the broker is down).
   */
  authenticate(email: string, password: string): Promise<AccountAccess | null>;
  /** Releases what the backend holds (not the histories' transports: the hubs close those). */
  close(): Promise<void>;
}

/** What an authenticated account may do with its own history, with its own credentials. */
export interface AccountAccess {
  readonly email: string;
  /** A transport onto the account's history (not yet connected). */
  openHistory(): Transport;
  /**
   * Deletes the account's history on the backend (its transport is closed first). Absent where
   * the backend cannot (an XMPP archive cannot be deleted by its owner).
   */
  readonly deleteHistory?: () => Promise<void>;
}

/**
 * Signs in by connecting `probe` as the account: true when the backend accepted the credentials,
 * false when it refused them (`FK_AUTH_FAILED`); rejects when the check could not be made. The
 * probe is closed either way.
 */
export async function signsIn(probe: Transport): Promise<boolean> {
  try {
    await probe.connect();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'FK_AUTH_FAILED') return false;
    throw err;
  } finally {
    await probe.close().catch(() => undefined);
  }
}
