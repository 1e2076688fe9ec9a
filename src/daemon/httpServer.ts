import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError } from '../core/errors';
import type { Logger } from '../core/logger';

/** What the endpoint serves; each handler is cheap and synchronous. */
export interface HttpHandlers {
  /** The process runs and is not shutting down. */
  healthy(): boolean;
  /** Every history followed (caught up, online, no conflict); the body says per session. */
  ready(): { readonly ready: boolean };
  status(): unknown;
  metrics(): string;
}

export interface HttpEndpoint {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

const json = (res: ServerResponse, status: number, v: unknown): void =>
  send(res, status, 'application/json', `${JSON.stringify(v, null, 2)}\n`);

/**
 * The daemon's local endpoint (node:http, GET only): `/healthz`, `/readyz`, `/status` (JSON) and
 * `/metrics` (Prometheus text). It exposes workitem names in `/status`, so it listens on
 * loopback unless configured otherwise.
 */
export function startHttpServer(
  host: string,
  port: number,
  handlers: HttpHandlers,
  logger: Logger,
): Promise<HttpEndpoint> {
  const log = logger.child({ component: 'http' });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    try {
      switch (path) {
        case '/healthz':
          return handlers.healthy()
            ? json(res, 200, { ok: true })
            : json(res, 503, { ok: false, reason: 'shutting down' });
        case '/readyz': {
          const r = handlers.ready();
          return json(res, r.ready ? 200 : 503, r);
        }
        case '/status':
          return json(res, 200, handlers.status());
        case '/metrics':
          return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', handlers.metrics());
        default:
          return send(res, 404, 'text/plain', 'not found: try /healthz /readyz /status /metrics\n');
      }
    } catch (err) {
      log.error({ err, path }, 'http handler failed');
      return send(res, 500, 'text/plain', 'internal error\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new InputError(
          'FK_CONFIG_INVALID',
          `http endpoint ${host}:${port} cannot listen: ${err.code ?? err.message} ` +
            `(set daemon.http, FK_DAEMON_HTTP or --http; 'off' disables it)`,
          { cause: err },
        ),
      ),
    );
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => log.error({ err }, 'http server error'));
      const addr = server.address() as AddressInfo;
      log.info({ host: addr.address, port: addr.port }, 'http listening');
      resolve({
        host: addr.address,
        port: addr.port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
