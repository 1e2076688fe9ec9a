import http from 'node:http';
import https from 'node:https';
import { TransportError } from '../../core/errors';
import type { FkEvent } from '../../core/notify/notifications';
import { redactBackend } from '../../app/config';
import type { WebhookTargetConfig } from '../options';
import { SIGNATURE_HEADER, signBody } from '../signature';
import type { Target } from './target';

/**
 * POSTs each event as JSON. Headers: `Content-Type: application/json`, `X-Fk-Event` (type),
 * `X-Fk-Id` (the stable id, for the receiver's own deduplication) and, with a secret,
 * `X-Fk-Signature: sha256=<hex>` over the exact body. Any 2xx confirms; anything else (status,
 * timeout, refused connection) fails the attempt and the delivery loop retries with backoff.
 */
export function createWebhookTarget(cfg: WebhookTargetConfig): Target {
  const url = new URL(cfg.url);
  const lib = url.protocol === 'https:' ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 1 });
  const where = redactBackend(cfg.url);
  const fail = (message: string, cause?: unknown): TransportError =>
    new TransportError('FK_TRANSPORT_UNAVAILABLE', `webhook '${cfg.name}' (${where}): ${message}`, {
      retryable: true,
      ...(cause ? { cause } : {}),
    });

  return {
    name: cfg.name,
    type: 'webhook',
    events: cfg.events,
    retry: cfg.retry,
    dedupeKey: cfg.dedupeKey,
    deliver(event: FkEvent, body: string): Promise<void> {
      const headers: Record<string, string> = {
        ...cfg.headers,
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
        'User-Agent': 'flowkeeper-headless-daemon',
        'X-Fk-Event': event.type,
        'X-Fk-Id': encodeURIComponent(event.id),
      };
      if (cfg.secret !== null) headers[SIGNATURE_HEADER] = signBody(cfg.secret, body);
      return new Promise<void>((resolve, reject) => {
        const req = lib.request(url, { method: 'POST', headers, agent, timeout: cfg.timeoutMs }, (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(fail(`answered ${status}`));
          });
          res.on('error', (err) => reject(fail('response failed', err)));
        });
        req.on('timeout', () => req.destroy(fail(`no answer within ${cfg.timeoutMs} ms`)));
        req.on('error', (err) =>
          reject(
            err instanceof TransportError ? err : fail((err as NodeJS.ErrnoException).code ?? 'request failed', err),
          ),
        );
        req.end(body);
      });
    },
    async close() {
      agent.destroy();
    },
  };
}
