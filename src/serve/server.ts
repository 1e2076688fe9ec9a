import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { handleStatusRequest } from '../app/httpEndpoint';
import { systemClock, type Clock } from '../core/clock';
import { InputError } from '../core/errors';
import type { Logger } from '../core/logger';
import { createAuthLimiter } from './authLimiter';
import type { ServeBackend } from './backend';
import {
  CLOSE,
  createConnection,
  type Connection,
  type ConnectionDeps,
  type PeerSocket,
  type Timer,
} from './connection';
import { createHubs } from './hubs';
import type { ServeLimits } from './limits';
import { bump, createStats, serveMetrics, type ServeStats } from './stats';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  /** PEM certificate chain and key: serve `wss://` instead of `ws://`. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Browser origins allowed to connect; a request with any other `Origin` header is refused. */
  readonly allowedOrigins: readonly string[];
  /** Take the client address from `X-Forwarded-For` (behind a reverse proxy that sets it). */
  readonly trustProxy: boolean;
  readonly limits: ServeLimits;
}

export interface ServerDeps {
  readonly backend: ServeBackend;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** `ws://host:port/ws` (or `wss://`). */
  readonly url: string;
  readonly stats: ServeStats;
  /** Stops accepting, closes every connection (1001), the open histories and the backend. */
  close(): Promise<void>;
}

/** The WebSocket path (the desktop app's default URL is `ws://localhost:8888/ws`). */
export const WS_PATH = '/ws';

const timer = (fn: () => void, ms: number): Timer => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${text}\n`);
  socket.destroy();
}

/**
 * `fk serve`: one HTTP(S) listener with the WebSocket at `/ws` and the status routes
 * (`/healthz`, `/readyz`, `/status`, `/metrics`, as the daemon's). Upgrades are checked before a
 * connection exists: path, `Origin`, the connection limit.
 */
export async function startServer(opts: ServerOptions, deps: ServerDeps): Promise<RunningServer> {
  const log = deps.logger.child({ component: 'serve' });
  const { limits } = opts;
  const stats = createStats();
  const hubs = createHubs({ logger: deps.logger, lingerMs: limits.lingerMs });
  const authLimiter = createAuthLimiter({
    perAddress: limits.authFailuresPerAddress,
    perAccount: limits.authFailuresPerAccount,
    windowMs: limits.authWindowMs,
  });
  const connDeps: ConnectionDeps = {
    backend: deps.backend,
    hubs,
    limits,
    authLimiter,
    clock: deps.clock ?? systemClock,
    stats,
    logger: deps.logger,
    setTimer: timer,
  };
  const sockets = new Map<WebSocket, { conn: Connection; alive: boolean }>();
  let stopping = false;

  const gauges = () => ({
    connections: sockets.size,
    authenticated: [...sockets.values()].filter((s) => s.conn.state === 'ready').length,
    accountsOpen: hubs.size,
    authLimiterKeys: authLimiter.size,
    backend: deps.backend.kind,
  });
  const handlers = {
    healthy: () => !stopping,
    ready: () => ({ ready: !stopping, backend: deps.backend.kind }),
    status: () => ({ ...gauges(), backend: { kind: deps.backend.kind }, stats }),
    metrics: () => serveMetrics(stats, gauges()),
  };

  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }) : createHttpServer();
  server.on('request', (req, res) => handleStatusRequest(req, res, handlers, log));
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxLineBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  function remoteOf(req: IncomingMessage): string {
    const forwarded = opts.trustProxy ? req.headers['x-forwarded-for'] : undefined;
    const last = typeof forwarded === 'string' ? forwarded.split(',').pop()?.trim() : undefined;
    return last || req.socket.remoteAddress || 'unknown';
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    const origin = req.headers.origin;
    let refused: [number, string, string] | null = null;
    if (stopping) refused = [503, 'Service Unavailable', 'stopping'];
    else if (path !== WS_PATH) refused = [404, 'Not Found', 'path'];
    else if (origin !== undefined && !opts.allowedOrigins.includes(origin)) refused = [403, 'Forbidden', 'origin'];
    else if (sockets.size >= limits.maxConnections) refused = [503, 'Service Unavailable', 'capacity'];
    if (refused) {
      bump(stats.connectionsRefused, refused[2]);
      log.info(
        { remote: remoteOf(req), reason: refused[2], ...(refused[2] === 'origin' ? { origin } : {}) },
        'upgrade refused',
      );
      return refuse(socket, refused[0], refused[1]);
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
  });

  function accept(ws: WebSocket, req: IncomingMessage): void {
    stats.connectionsOpened++;
    (req.socket as Socket).setNoDelay(true);
    const peer: PeerSocket = {
      send: (text, done) => ws.send(text, { binary: false }, done),
      close: (code, reason) => ws.close(code, Buffer.from(reason).subarray(0, 120).toString()),
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
    };
    const entry = { conn: createConnection(peer, remoteOf(req), connDeps), alive: true };
    sockets.set(ws, entry);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        bump(stats.closedBy, 'binary');
        ws.close(1003, 'text frames only');
        return;
      }
      entry.conn.onFrame(data.toString());
    });
    ws.on('pong', () => void (entry.alive = true));
    ws.on('error', (err) => log.info({ conn: entry.conn.id, err: err.message }, 'websocket error'));
    ws.on('close', () => {
      sockets.delete(ws);
      entry.conn.onClose();
    });
  }

  // Dead peers (a laptop that went to sleep) answer no WebSocket ping: closed after one interval.
  const pinger = setInterval(() => {
    for (const [ws, entry] of sockets) {
      if (!entry.alive) {
        bump(stats.closedBy, 'no-pong');
        ws.terminate();
        continue;
      }
      entry.alive = false;
      ws.ping();
    }
  }, limits.pingIntervalMs);
  pinger.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new InputError(
          'FK_CONFIG_INVALID',
          `fk serve cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message} (--listen)`,
          { cause: err },
        ),
      ),
    );
    server.listen(opts.port, opts.host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => log.error({ err }, 'server error'));
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const url = `${opts.tls ? 'wss' : 'ws'}://${host}:${addr.port}${WS_PATH}`;
  log.info({ url, backend: deps.backend.where }, 'fk serve listening');

  return {
    host: addr.address,
    port: addr.port,
    url,
    stats,
    async close() {
      if (stopping) return;
      stopping = true;
      clearInterval(pinger);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const ws of sockets.keys()) ws.close(CLOSE.goingAway, 'server stopping');
      const deadline = setTimeout(() => {
        for (const ws of sockets.keys()) ws.terminate();
        server.closeAllConnections();
      }, 2000);
      await hubs.close();
      await deps.backend.close();
      await closed;
      clearTimeout(deadline);
      log.info('fk serve stopped');
    },
  };
}
