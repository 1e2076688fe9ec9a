import type { FkEvent } from '../../core/notify/notifications';
import { TransportError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { StdoutTargetConfig, TargetConfig } from '../options';
import { createAmqpTarget } from './amqp';
import { createHookTarget } from './hook';
import type { Target } from './target';
import { createWebhookTarget } from './webhook';
import { createXmppTarget } from './xmpp';

export type { Target } from './target';

/** JSON lines on stdout; confirmed once the line is handed to the stream. */
export function createStdoutTarget(cfg: StdoutTargetConfig, out: NodeJS.WritableStream = process.stdout): Target {
  // A closed pipe (EPIPE) reaches the write callback below; without a listener the stream's
  // 'error' event would also crash the daemon.
  const ignore = (): void => undefined;
  out.on('error', ignore);
  return {
    name: cfg.name,
    type: 'stdout',
    events: cfg.events,
    retry: cfg.retry,
    dedupeKey: cfg.dedupeKey,
    deliver(_event: FkEvent, body: string): Promise<void> {
      return new Promise((resolve, reject) => {
        out.write(`${body}\n`, (err) =>
          err
            ? reject(
                new TransportError('FK_TRANSPORT_UNAVAILABLE', `stdout target '${cfg.name}': ${err.message}`, {
                  cause: err,
                  retryable: true,
                }),
              )
            : resolve(),
        );
      });
    },
    async close() {
      out.removeListener('error', ignore);
    },
  };
}

/** Builds the configured target. */
export function createTarget(cfg: TargetConfig, logger: Logger, stdout?: NodeJS.WritableStream): Target {
  switch (cfg.type) {
    case 'stdout':
      return createStdoutTarget(cfg, stdout);
    case 'hook':
      return createHookTarget(cfg);
    case 'webhook':
      return createWebhookTarget(cfg);
    case 'amqp':
      return createAmqpTarget(cfg, logger);
    case 'xmpp':
      return createXmppTarget(cfg, logger);
  }
}
