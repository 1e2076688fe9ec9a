import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger';

/**
 * The status routes every long-running program serves (the daemon on its own endpoint, `fk serve`
 * next to its WebSocket): `/healthz`, `/readyz`, `/status` (JSON) and `/metrics` (Prometheus
 * text, `metrics.ts`). GET and HEAD only; each handler is cheap and synchronous.
 */
export interface HttpHandlers {
  /** The process runs and is not shutting down. */
  healthy(): boolean;
  /** Ready to serve (the body says why not). */
  ready(): { readonly ready: boolean };
  status(): unknown;
  metrics(): string;
}

export function sendText(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

const json = (res: ServerResponse, status: number, v: unknown): void =>
  sendText(res, status, 'application/json', `${JSON.stringify(v, null, 2)}\n`);

/** Answers one request from the status routes; anything else is 404 (or 405 for other methods). */
export function handleStatusRequest(
  req: IncomingMessage,
  res: ServerResponse,
  handlers: HttpHandlers,
  log: Logger,
): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'text/plain', 'method not allowed\n');
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
        return sendText(res, 200, 'text/plain; version=0.0.4; charset=utf-8', handlers.metrics());
      default:
        return sendText(res, 404, 'text/plain', 'not found: try /healthz /readyz /status /metrics\n');
    }
  } catch (err) {
    log.error({ err, path }, 'http handler failed');
    return sendText(res, 500, 'text/plain', 'internal error\n');
  }
}
