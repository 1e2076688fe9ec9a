import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError } from '../core/errors';
import type { Logger } from '../core/logger';
import { handleStatusRequest, type HttpHandlers } from '../app/httpEndpoint';

export type { HttpHandlers };

export interface HttpEndpoint {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

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
  const server = createServer((req: IncomingMessage, res: ServerResponse) =>
    handleStatusRequest(req, res, handlers, log),
  );
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
