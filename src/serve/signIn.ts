import { formatSeedLine } from '../core/engine/seed';
import type { AccountAccess } from './backend';
import type { ConnectionDeps } from './connection';
import type { Hub, HubMember } from './hub';
import { ERROR_CODES } from './protocol';

/**
 * `Authenticate("EMAIL", "basic|PASSWORD", "CONSENT")`: checks the credentials with the backend
 * (rate limited), joins the account's hub, and seeds a new account's history.
 *
 * A failed sign-in gets one Error and nothing else. Its seq matters to the client, which acts on
 * an Error only when its seq is above its last one: so the Error waits for the `Replay(N)` the
 * client sends right after Authenticate and carries N + 1 (the connection does that). The client
 * then shows its dialog ("Wrong password for user …"). The socket stays open (the client would
 * reconnect at once and fail again) until the authentication timeout closes it. "User consent is
 * required" is the exception: the socket closes after it, because the client reconnects with
 * consent once its user said yes.
 */
export interface PendingError {
  readonly code: number;
  readonly message: string;
  /** Close the socket after sending it. */
  readonly close: boolean;
}

export type SignInResult =
  | { readonly kind: 'ok'; readonly access: AccountAccess; readonly hub: Hub }
  | { readonly kind: 'failed'; readonly error: PendingError };

/** The client's user pattern (its `\w` is Python's, Unicode-aware), anchored: its own lines must parse. */
export const EMAIL_RE = /^[\p{L}\p{N}_.-]+@(?:[\p{L}\p{N}_-]+\.)+[\p{L}\p{N}_-]{2,4}$/u;

const failed = (code: number, message: string, close = false): SignInResult => ({
  kind: 'failed',
  error: { code, message, close },
});

export async function signIn(
  params: readonly string[],
  remote: string,
  member: HubMember,
  deps: ConnectionDeps,
): Promise<SignInResult> {
  const { stats, limits } = deps;
  const email = params[0] ?? '';
  const token = params[1] ?? '';
  const consent = params[2] === 'true';
  const log = deps.logger.child({ conn: member.id, remote });
  if (!token.startsWith('basic|')) {
    stats.signIns.unsupported++;
    return failed(
      ERROR_CODES.unauthorized,
      `Invalid Google auth token for user ${email}: this server supports basic authentication only`,
    );
  }
  if (email.length > 254 || !EMAIL_RE.test(email)) {
    stats.signIns.wrong++;
    return failed(
      ERROR_CODES.unauthorized,
      `Unknown user ${email.slice(0, 254)}: not an e-mail address the client can use`,
    );
  }
  const wait = deps.authLimiter.blocked(remote, email);
  if (wait !== null) {
    stats.signIns.limited++;
    log.warn({ account: email }, 'sign-in refused: too many failures');
    return failed(ERROR_CODES.tooMany, `Too many failed sign-ins for user ${email}: try again in ${wait} s`);
  }
  let access: AccountAccess | null;
  try {
    access = await deps.backend.authenticate(email, token.slice('basic|'.length));
  } catch (err) {
    stats.signIns.unavailable++;
    log.error({ err, account: email }, 'credentials could not be checked');
    return failed(ERROR_CODES.unavailable, 'The server cannot check credentials now: try again later', true);
  }
  if (access === null) {
    deps.authLimiter.failed(remote, email);
    stats.signIns.wrong++;
    log.info({ account: email }, 'sign-in failed');
    return failed(ERROR_CODES.unauthorized, `Wrong password for user ${email}`);
  }
  deps.authLimiter.succeeded(remote, email);
  if (deps.hubs.connections(email) >= limits.maxConnectionsPerAccount) {
    stats.signIns.limited++;
    return failed(
      ERROR_CODES.tooMany,
      `Too many connections for user ${email}: at most ${limits.maxConnectionsPerAccount}`,
      true,
    );
  }
  let hub: Hub;
  try {
    hub = await deps.hubs.join(access, member);
  } catch (err) {
    stats.signIns.unavailable++;
    log.error({ err, account: email }, 'the history could not be opened');
    return failed(ERROR_CODES.unavailable, 'The history is not available now: try again later', true);
  }
  if (hub.count === 0) {
    if (!consent) {
      deps.hubs.leave(hub, member);
      stats.signIns.consent++;
      return failed(ERROR_CODES.forbidden, 'User consent is required', true);
    }
    try {
      if (await hub.seed(formatSeedLine(email, email.split('@')[0] as string, deps.clock.now()))) {
        stats.accountsCreated++;
        log.info({ account: email }, 'account history created');
      }
    } catch (err) {
      deps.hubs.leave(hub, member);
      stats.signIns.unavailable++;
      log.error({ err, account: email }, 'the new history could not be seeded');
      return failed(ERROR_CODES.unavailable, 'The history is not available now: try again later', true);
    }
  }
  stats.signIns.ok++;
  log.info({ account: email, lines: hub.count }, 'signed in');
  return { kind: 'ok', access, hub };
}
