import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FkEvent } from '../../src/core/notify/notifications';
import { verifySignature } from '../../src/daemon/signature';

/** One POST the receiver got. */
export interface Received {
  readonly event: FkEvent;
  readonly signatureValid: boolean;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Date.now() when the body was complete. */
  readonly receivedAtMs: number;
}

/**
 * A local HTTP server standing in for a webhook target. `down()` makes it answer 503 (the target
 * is unavailable), `up()` restores 204. Only 2xx answers count as received.
 */
export interface WebhookReceiver {
  readonly url: string;
  readonly received: Received[];
  /** Attempts answered 503. */
  refused: number;
  down(): void;
  up(): void;
  ids(type?: string): string[];
  waitFor(pred: (r: Received[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string | null): Promise<WebhookReceiver> {
  let isDown = false;
  const received: Received[] = [];
  let waiters: Array<() => void> = [];
  const notify = (): void => {
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (isDown) {
        r.refused++;
        res.writeHead(503).end();
        notify();
        return;
      }
      const body = Buffer.concat(chunks);
      received.push({
        event: JSON.parse(body.toString('utf8')) as FkEvent,
        signatureValid:
          secret === null ? true : verifySignature(secret, body, req.headers['x-fk-signature'] as string | undefined),
        headers: req.headers,
        receivedAtMs: Date.now(),
      });
      res.writeHead(204).end();
      notify();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const r: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/fk`,
    received,
    refused: 0,
    down: () => {
      isDown = true;
    },
    up: () => {
      isDown = false;
    },
    ids: (type) => received.filter((x) => type === undefined || x.event.type === type).map((x) => x.event.id),
    waitFor: (pred, what, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`timed out waiting for ${what}; received: ${received.map((x) => x.event.type).join(', ')}`),
            ),
          timeoutMs,
        );
        const check = (): void => {
          if (pred(received)) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return r;
}

/** Polls a condition (state owned by another component, e.g. a daemon catching up a file). */
export async function waitUntil(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
