import { client } from '@xmpp/client';
import type { Client, Element } from '@xmpp/client';
import { createBackoff } from '../../core/backoff';
import { TransportError } from '../../core/errors';
import { describeCause, toTransportError } from './xmppErrors';
import type { Logger } from '../../core/logger';
import type { NormalizedXmppOptions } from './options';
import { errorCondition } from './stanza';

/**
 * One `@xmpp/client` session with the parts both the transport and the notifier need: a
 * connect that maps failures to our error catalog, IQ requests with our own timers (so `stop()`
 * leaves no timer behind), and reconnection through `@xmpp/reconnect` with capped exponential
 * backoff (the unit itself only knows a fixed delay).
 */
export interface ConnectionEvents {
  /** Every inbound stanza, in stream order. */
  readonly onStanza?: (stanza: Element) => void;
  /** The session is back after a drop; `resumed` when XEP-0198 resumed it (server state kept). */
  readonly onBack?: (resumed: boolean) => void;
  /** The connection dropped; `retryInMs` is absent when no retry will happen (bad credentials). */
  readonly onDown?: (reason: string, retryInMs: number | undefined) => void;
  /** A reconnect attempt started. */
  readonly onReconnecting?: () => void;
}

export interface XmppConnection {
  /** `local@domain` as bound by the server; valid once `start()` resolved. */
  readonly ownBare: string;
  /** Connects and authenticates; rejects with a `TransportError` (FK_AUTH_FAILED, FK_TRANSPORT_*). */
  start(): Promise<void>;
  /** Sends an IQ and resolves with the result; an error reply rejects with its condition. */
  request(iq: Element, what: string): Promise<Element>;
  send(stanza: Element): Promise<void>;
  /** Drops the current connection; reconnection (when enabled) takes over. */
  drop(): void;
  /** Ends the session and every timer; idempotent. */
  stop(): Promise<void>;
}

/** Longest wait for the server to end the stream on close before the socket is destroyed. */
const MAX_CLOSE_WAIT_MS = 5000;

export function openXmppConnection(
  opts: NormalizedXmppOptions,
  log: Logger,
  events: ConnectionEvents,
  reconnect: boolean,
): XmppConnection {
  const xmpp: Client = client({
    service: opts.service,
    domain: opts.domain,
    username: opts.username,
    password: opts.password,
    resource: opts.resource,
  });
  // Reconnection starts only once the first session is up: a failed connect() must fail, not loop.
  xmpp.reconnect.stop();
  dropBytesAfterStreamEnd(xmpp, log);
  startWithoutStrayRejection(xmpp);
  let ownBare = '';
  let started = false;
  let stopping = false;
  let authFailed = false;
  // ±20 %: clients cut off together do not come back in step.
  const backoff = createBackoff({ minMs: opts.retryLowMs, maxMs: opts.retryHighMs, jitter: 0.2 });
  let nextId = 0;
  let abortStart: ((err: Error) => void) | null = null;
  const requests = new Map<
    string,
    { resolve: (e: Element) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();

  const failRequests = (err: Error): void => {
    for (const [id, r] of requests) {
      clearTimeout(r.timer);
      requests.delete(id);
      r.reject(err);
    }
  };

  xmpp.on('error', (err: unknown) => {
    // Before the first session the error reaches the caller of connect(), who reports it once.
    if (started) log.warn({ err }, 'xmpp connection error');
    else log.debug({ err }, 'xmpp connection error');
    if (started && err instanceof Error && err.name === 'SASLError') {
      // The password changed while we were away: retrying would only hammer the server.
      authFailed = true;
      xmpp.reconnect.stop();
      log.error({ err }, 'reconnect stopped: authentication failed');
      events.onDown?.('authentication failed', undefined);
      xmpp.disconnect().catch(() => undefined);
    }
  });
  // Once our </stream:stream> is out and answered (or given up on), @xmpp/connection detaches its
  // parser, ends the socket and waits for the server's FIN; a byte arriving meanwhile makes it
  // throw inside its 'data' handler, and a FIN that never comes leaves the socket open. The stream
  // is over (RFC 6120 §4.4), so the socket goes at once.
  xmpp.on('status', (status: string) => {
    if (stopping && status === 'disconnecting') xmpp.socket?.destroy?.();
  });
  // The server ended the stream before the session was up (a cut, an overloaded server): fail
  // the connect now rather than at its timeout.
  xmpp.on('close', () => {
    if (!started && !stopping) abortStart?.(new Error('the server ended the XMPP stream while signing in'));
  });
  // Small request/response exchanges (publish → echo, page → next page) must not wait for Nagle.
  xmpp.on('connect', () => xmpp.socket?.setNoDelay?.(true));
  xmpp.on('stanza', (stanza: Element) => {
    if (stanza.name === 'iq' && (stanza.attrs.type === 'result' || stanza.attrs.type === 'error')) {
      const r = stanza.attrs.id === undefined ? undefined : requests.get(stanza.attrs.id);
      if (r && stanza.attrs.id !== undefined) {
        clearTimeout(r.timer);
        requests.delete(stanza.attrs.id);
        if (stanza.attrs.type === 'result') r.resolve(stanza);
        else
          r.reject(
            Object.assign(new Error(errorCondition(stanza)), {
              name: 'StanzaError',
              condition: errorCondition(stanza),
            }),
          );
        return;
      }
    }
    events.onStanza?.(stanza);
  });
  xmpp.on('disconnect', (info: { clean?: boolean; reason?: unknown } | undefined) => {
    failRequests(
      new TransportError('FK_TRANSPORT_UNAVAILABLE', `xmpp connection to ${opts.service} lost`, { retryable: true }),
    );
    if (!started || stopping || authFailed) return;
    const delay = backoff.next();
    // Read by @xmpp/reconnect's own 'disconnect' listener, registered after this one.
    xmpp.reconnect.delay = delay;
    const reason = info?.reason === undefined ? 'connection lost' : describeCause(info.reason);
    log.warn({ attempt: backoff.attempt, delayMs: delay, reason }, 'reconnect scheduled');
    events.onDown?.(reason, delay);
  });
  xmpp.reconnect.on('reconnecting', () => events.onReconnecting?.());
  /**
   * Resolves once XEP-0198 is enabled (or failed, or not offered). Until then we send nothing:
   * @xmpp/stream-management 0.14 resets its inbound counter a few microtasks after `<enabled/>`
   * arrives, and answers an `<r/>` that arrives in the same TCP chunk with the old session's count.
   * Prosody then closes the stream ("client acknowledged more stanzas than sent"). Waiting keeps
   * the server quiet until the reset has happened.
   */
  const streamManagementSettled = async (): Promise<void> => {
    await new Promise<void>((r) => setImmediate(r));
    const sm = xmpp.streamManagement;
    if (!sm.enableSent || sm.enabled) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        xmpp.removeListener('nonza', onNonza);
        xmpp.removeListener('disconnect', done);
        setImmediate(resolve);
      };
      const onNonza = (el: Element): void => {
        if (el.attrs.xmlns === 'urn:xmpp:sm:3' && (el.name === 'enabled' || el.name === 'failed')) done();
      };
      const timer = setTimeout(done, opts.requestTimeoutMs);
      xmpp.on('nonza', onNonza);
      xmpp.on('disconnect', done);
    });
  };

  xmpp.on('online', () => {
    if (!started || stopping) return;
    backoff.reset();
    streamManagementSettled().then(
      () => !stopping && events.onBack?.(false),
      () => undefined,
    );
  });
  xmpp.streamManagement.on('resumed', () => {
    if (!started || stopping) return;
    backoff.reset();
    events.onBack?.(true);
  });

  return {
    get ownBare() {
      return ownBare;
    },
    async start() {
      let timer: NodeJS.Timeout | undefined;
      // When the timeout or an ended stream decides first, the library's own start may still fail
      // later (ECONNRESET as the socket goes): that late failure is already reported, not a crash.
      const starting = xmpp.start();
      starting.catch((err: unknown) => log.debug({ err }, 'xmpp start failed after the connect was decided'));
      try {
        await Promise.race([
          starting,
          new Promise<never>((_, reject) => {
            abortStart = reject;
            timer = setTimeout(
              () => reject(Object.assign(new Error('connect timed out'), { name: 'TimeoutError' })),
              opts.connectTimeoutMs,
            );
          }),
        ]);
        await streamManagementSettled();
      } catch (err) {
        await this.stop();
        throw toTransportError(err, opts);
      } finally {
        clearTimeout(timer);
        abortStart = null;
      }
      ownBare = (xmpp.jid?.bare().toString() ?? `${opts.username}@${opts.domain}`).toLowerCase();
      started = true;
      if (reconnect) xmpp.reconnect.start();
    },
    request(iq, what) {
      const id = `fk${++nextId}`;
      iq.attrs.id = id;
      return new Promise<Element>((resolve, reject) => {
        const timer = setTimeout(() => {
          requests.delete(id);
          reject(
            new TransportError(
              'FK_TRANSPORT_TIMEOUT',
              `xmpp ${what} got no answer within ${opts.requestTimeoutMs} ms`,
              { retryable: true },
            ),
          );
        }, opts.requestTimeoutMs);
        requests.set(id, { resolve, reject, timer });
        xmpp.send(iq).catch((err: unknown) => {
          clearTimeout(timer);
          requests.delete(id);
          reject(
            new TransportError('FK_TRANSPORT_UNAVAILABLE', `xmpp ${what} could not be sent`, {
              cause: err,
              retryable: true,
            }),
          );
        });
      });
    },
    send: (stanza) => xmpp.send(stanza),
    drop() {
      xmpp.disconnect().catch((err: unknown) => log.debug({ err }, 'xmpp disconnect failed'));
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      xmpp.reconnect.stop();
      abortStart?.(
        new TransportError('FK_TRANSPORT_CLOSED', `xmpp connection to ${opts.service} closed while connecting`),
      );
      failRequests(new TransportError('FK_TRANSPORT_CLOSED', `xmpp connection to ${opts.service} is closed`));
      const socket = xmpp.socket;
      if (xmpp.status !== 'offline') {
        // @xmpp/connection waits 2 s for the server's </stream:stream> and 2 s for its FIN, then
        // gives up but leaves the half-closed socket open: on a dead link the process would never
        // exit. So: at most MAX_CLOSE_WAIT_MS, then the socket is destroyed whatever happened.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          xmpp.stop().catch((err: unknown) => log.debug({ err }, 'xmpp stop failed')),
          new Promise<void>(
            (resolve) => (timer = setTimeout(resolve, Math.min(opts.connectTimeoutMs, MAX_CLOSE_WAIT_MS))),
          ),
        ]);
        clearTimeout(timer);
      }
      socket?.destroy?.();
      xmpp.socket?.destroy?.();
      xmpp.reconnect.stop();
    },
  };
}

/**
 * @xmpp/connection 0.14 writes every socket chunk to its XML parser, which it sets to null once
 * the stream has ended (the server's `</stream:stream>`, a parse error): a chunk arriving after
 * that throws inside the socket's 'data' handler, where nothing can catch it, and the process
 * dies (seen in the soak when the server closed a stream during a connection cut). After the end
 * of the stream nothing more is XMPP (RFC 6120 §4.4): such bytes are dropped. Must run before the
 * first connect, when the connection binds its socket listeners.
 */
function dropBytesAfterStreamEnd(xmpp: Client, log: Logger): void {
  const conn = xmpp as unknown as { parser: unknown; _onData: (data: Buffer) => void };
  const onData = conn._onData.bind(xmpp);
  conn._onData = (data: Buffer): void => {
    if (conn.parser === null) log.debug({ bytes: data.length }, 'xmpp bytes after the end of the stream dropped');
    else onData(data);
  };
}

interface ConnectionStart {
  status: string;
  readonly options: { readonly service: string; readonly domain: string; readonly lang?: string };
  start: () => Promise<unknown>;
  connect(service: string): Promise<unknown>;
  open(options: { domain: string; lang?: string }): Promise<unknown>;
  once(event: string, listener: (value: unknown) => void): unknown;
  removeListener(event: string, listener: (value: unknown) => void): unknown;
}

/**
 * @xmpp/connection 0.14's `start()` waits for 'online' (rejecting on 'error') while it opens the
 * stream (also rejecting on 'error'): a socket error during the opening rejects both, `start()`
 * reports the second, and the first is an unhandled rejection that kills the process (the soak
 * saw `read ECONNRESET` crash commands whose connection was cut at that moment). The same steps,
 * with the 'online' wait handled: the error reaches the caller once, through `start()`.
 */
function startWithoutStrayRejection(xmpp: Client): void {
  const conn = xmpp as unknown as ConnectionStart;
  conn.start = async (): Promise<unknown> => {
    if (conn.status !== 'offline') throw new Error('Connection is not offline');
    const { service, domain, lang } = conn.options;
    await conn.connect(service);
    const online = new Promise<unknown>((resolve, reject) => {
      const onOnline = (value: unknown): void => {
        conn.removeListener('error', onError);
        resolve(value);
      };
      const onError = (err: unknown): void => {
        conn.removeListener('online', onOnline);
        reject(err);
      };
      conn.once('online', onOnline);
      conn.once('error', onError);
    });
    online.catch(() => undefined); // if the opening fails, its own rejection reports this same error
    await conn.open(lang === undefined ? { domain } : { domain, lang });
    return online;
  };
}
