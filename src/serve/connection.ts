import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import type { AccountAccess, ServeBackend } from './backend';
import type { AuthLimiter } from './authLimiter';
import type { Hub, HubMember } from './hub';
import type { Hubs } from './hubs';
import type { ServeLimits } from './limits';
import { describeLine, errorLine, readInbound, serverLine, type InboundLine } from './protocol';
import { replayTo } from './replay';
import { signIn, type PendingError } from './signIn';
import { bump, type ServeStats } from './stats';

/** The socket as a connection sees it (a `ws` WebSocket, or a fake in unit tests). */
export interface PeerSocket {
  /** Sends one text frame (a Buffer holds UTF-8 text). */
  send(text: string | Buffer, done?: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

export interface Timer {
  cancel(): void;
}

export interface ConnectionDeps {
  readonly backend: ServeBackend;
  readonly hubs: Hubs;
  readonly limits: ServeLimits;
  readonly authLimiter: AuthLimiter;
  /** Timestamps of the lines the server writes. */
  readonly clock: Clock;
  readonly stats: ServeStats;
  readonly logger: Logger;
  readonly setTimer: (fn: () => void, ms: number) => Timer;
}

export type ConnectionState = 'new' | 'failed' | 'ready' | 'deleted' | 'closed';

export interface Connection {
  readonly id: number;
  readonly state: ConnectionState;
  readonly account: string | null;
  /** One text frame from the peer (one or more lines). */
  onFrame(text: string): void;
  /** The socket closed (either side). */
  onClose(): void;
}

/** WebSocket close codes the server uses. */
export const CLOSE = { normal: 1000, goingAway: 1001, policy: 1008, tooBig: 1009, internal: 1011 } as const;

let nextId = 1;

/**
 * One client connection: reads lines in order (one at a time, so a line never overtakes the one
 * before it), signs in, replays, pings, deletes, and hands record lines to the account's hub.
 * Lines are never logged, only what they are (`describeLine`).
 */
export function createConnection(socket: PeerSocket, remote: string, deps: ConnectionDeps): Connection {
  const id = nextId++;
  const { limits, stats } = deps;
  let log = deps.logger.child({ conn: id, remote });
  let state: ConnectionState = 'new';
  let access: AccountAccess | null = null;
  let hub: Hub | null = null;
  let queued = 0;
  let chain: Promise<void> = Promise.resolve();
  let pending: PendingError | null = null;
  let pendingTimer: Timer | null = null;
  const authTimer = deps.setTimer(() => {
    if (state === 'new' || state === 'failed') close(CLOSE.policy, 'authentication timeout', 'auth-timeout');
  }, limits.authTimeoutMs);
  let idleTimer = deps.setTimer(idle, limits.idleTimeoutMs);

  const member: HubMember = {
    id,
    sent: 0,
    own: 0,
    // Live lines flow only after the first replay completed (its `Replay` follows Authenticate).
    replaying: true,
    deliver(line) {
      if (socket.bufferedAmount > limits.maxBufferedBytes) {
        close(CLOSE.policy, 'too slow: output buffer full', 'slow-consumer');
        return;
      }
      stats.linesSent++;
      socket.send(line);
    },
    lost(seq) {
      bump(stats.linesRejected, 'lost-race');
      sendError(
        seq,
        409,
        `Sequence conflict: another writer stored record ${seq} first; this one is ignored by every reader`,
      );
    },
    kick(reason) {
      close(CLOSE.internal, reason, 'kicked');
    },
    accountDeleted() {
      if (state !== 'ready') return;
      state = 'deleted';
      hub = null;
      sendError(Math.max(member.sent, member.own) + 1, 410, 'Deleted');
    },
  };

  function idle(): void {
    if (state !== 'closed') close(CLOSE.goingAway, 'idle timeout', 'idle');
  }

  function send(text: string): void {
    if (state !== 'closed') socket.send(text);
  }

  function sendError(seq: number, code: number, message: string): void {
    send(errorLine(seq, deps.clock.now(), code, message));
  }

  function close(code: number, reason: string, why: string): void {
    if (state === 'closed') return;
    bump(stats.closedBy, why);
    log.info({ code, reason }, 'closing connection');
    socket.close(code, reason);
    onClose();
  }

  function onClose(): void {
    if (state === 'closed') return;
    state = 'closed';
    authTimer.cancel();
    idleTimer.cancel();
    pendingTimer?.cancel();
    if (hub) deps.hubs.leave(hub, member);
    hub = null;
  }

  /** The Error of a failed sign-in waits for the Replay that follows it (see signIn.ts). */
  function flushPending(replayedFrom: number | null): void {
    if (pending === null) return;
    pendingTimer?.cancel();
    const p = pending;
    pending = null;
    sendError(replayedFrom === null ? 1 : replayedFrom + 1, p.code, p.message);
    if (p.close) close(CLOSE.policy, p.message, 'sign-in');
  }

  async function handle(line: string): Promise<void> {
    if (state === 'closed') return;
    stats.linesReceived++;
    if (Buffer.byteLength(line, 'utf8') > limits.maxLineBytes) {
      bump(stats.linesRejected, 'too-large');
      sendError(1, 413, `Line too long: at most ${limits.maxLineBytes} bytes`);
      return;
    }
    const r = readInbound(line);
    if (r.kind === 'empty') return;
    log.debug(describeLine(line), 'line received');
    if (state === 'new') return beforeSignIn(r);
    if (state === 'failed') {
      if (r.kind === 'control' && r.name === 'Replay') flushPending(Number(r.params[0]) || 0);
      return;
    }
    if (state === 'deleted') {
      if (r.kind === 'control' && r.name === 'Ping') pong(r.params[0] ?? '');
      return;
    }
    return signedIn(r, line);
  }

  async function beforeSignIn(r: InboundLine): Promise<void> {
    if (r.kind !== 'control' || r.name !== 'Authenticate') {
      bump(stats.linesRejected, 'not-signed-in');
      sendError(1, 401, 'Authenticate first');
      close(CLOSE.policy, 'authenticate first', 'not-signed-in');
      return;
    }
    const out = await signIn(r.params, remote, member, deps);
    if (state === 'closed') {
      if (out.kind === 'ok') deps.hubs.leave(out.hub, member);
      return;
    }
    if (out.kind !== 'ok') {
      state = 'failed';
      pending = out.error;
      // A client sends Replay right after Authenticate; if it does not, answer anyway.
      pendingTimer = deps.setTimer(() => flushPending(null), 2000);
      return;
    }
    state = 'ready';
    access = out.access;
    hub = out.hub;
    authTimer.cancel();
    log = log.child({ account: access.email });
  }

  function pong(uid: string): void {
    send(serverLine(1, deps.clock.now(), 'Pong', [uid]));
  }

  async function signedIn(r: InboundLine, line: string): Promise<void> {
    const h = hub as Hub;
    if (r.kind === 'invalid') {
      bump(stats.linesRejected, 'invalid');
      sendError(r.seq ?? 1, 400, `Refused: ${r.reason}`);
      return;
    }
    if (r.kind === 'control') {
      switch (r.name) {
        case 'Ping':
          return pong(r.params[0] ?? '');
        case 'Replay': {
          const from = Number(r.params[0]);
          if (!/^(0|[1-9][0-9]{0,15})$/.test(r.params[0] ?? '') || !Number.isSafeInteger(from)) {
            bump(stats.linesRejected, 'invalid');
            sendError(1, 400, 'Refused: Replay needs a position');
            return;
          }
          stats.replays++;
          await replayTo(socket, h, member, from, deps);
          return;
        }
        case 'DeleteAccount':
          return deleteAccount(r.seq);
        case 'Authenticate':
          bump(stats.linesRejected, 'invalid');
          sendError(1, 400, 'Refused: already authenticated');
          return;
      }
    }
    if (r.kind !== 'record') return;
    if (!r.encrypted && r.user !== (access as AccountAccess).email) {
      bump(stats.linesRejected, 'wrong-user');
      sendError(r.seq, 403, `Refused: a record of user ${r.user} on the account of ${(access as AccountAccess).email}`);
      return;
    }
    return submit(h, line, r.encrypted ? null : r.seq);
  }

  async function submit(h: Hub, line: string, seq: number | null): Promise<void> {
    const out = await h.submit(member, line);
    if (out.ok) {
      stats.linesStored++;
      return;
    }
    bump(stats.linesRejected, out.code === 409 ? 'conflict' : 'unavailable');
    log.info({ code: out.code, ...describeLine(line) }, 'record refused');
    // The rejected line's own seq (or 1 when it cannot be read): the client skips an Error
    // whose seq is not above its last one, instead of moving its counter past a line never stored.
    sendError(seq ?? 1, out.code, out.message);
  }

  async function deleteAccount(seq: number): Promise<void> {
    const h = hub as Hub;
    const acc = access as AccountAccess;
    if (!acc.deleteHistory) {
      bump(stats.linesRejected, 'unsupported');
      sendError(seq, 501, `DeleteAccount is not supported on the ${deps.backend.kind} backend`);
      return;
    }
    const everyone = [...h.members];
    await h.exclusive(async () => undefined); // appends in flight land first
    await deps.hubs.drop(h);
    try {
      await acc.deleteHistory();
    } catch (err) {
      log.error({ err }, 'deleting the history failed');
      sendError(seq, 503, 'The history could not be deleted; try again later');
      // Everyone reconnects to the history as it still is.
      for (const m of everyone) m.kick('history not deleted');
      return;
    }
    stats.accountsDeleted++;
    log.info('account history deleted');
    member.sent = Math.max(member.sent, seq);
    for (const m of everyone) m.accountDeleted();
  }

  return {
    id,
    get state() {
      return state;
    },
    get account() {
      return access?.email ?? null;
    },
    onFrame(text) {
      if (state === 'closed') return;
      idleTimer.cancel();
      idleTimer = deps.setTimer(idle, limits.idleTimeoutMs);
      for (const raw of text.split('\n')) {
        if (++queued > limits.maxQueuedLines) {
          close(CLOSE.policy, 'too many lines queued', 'queue-full');
          return;
        }
        chain = chain
          .then(() => handle(raw.endsWith('\r') ? raw.slice(0, -1) : raw))
          .catch((err: unknown) => {
            log.error({ err }, 'line handling failed');
            close(CLOSE.internal, 'internal error', 'internal');
          })
          .finally(() => void queued--);
      }
    },
    onClose,
  };
}
