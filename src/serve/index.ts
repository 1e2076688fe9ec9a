import { backendKind } from '../app/session';
import type { Logger } from '../core/logger';
import type { ServeBackend } from './backend';
import { createFileBackend } from './backends/file';

/**
 * `fk serve`: Flowkeeper's own sync protocol over WebSocket, as a thin gateway onto the file,
 * RabbitMQ and XMPP backends (docs/serve.md). A program of its own: it uses `src/app` and below.
 */
export { startServer, WS_PATH, type RunningServer, type ServerOptions } from './server';
export { DEFAULT_LIMITS, LIMIT_FLAGS, resolveLimits, type ServeLimits } from './limits';
export { addUser, listUsers, newPassword, removeUser } from './userAdmin';
export { createPasswordHasher } from './passwordHasher';
export type { ServeBackend } from './backend';

/** The backend `--backend` names: a directory, `amqp://host/vhost` or `xmpp://domain`. */
export async function createServeBackend(backend: string, logger: Logger): Promise<ServeBackend> {
  const kind = backendKind(backend);
  if (kind === 'amqp') return (await import('./backends/amqp')).createAmqpBackend(backend, logger);
  if (kind === 'xmpp') return (await import('./backends/xmpp')).createXmppBackend(backend, logger);
  return createFileBackend(backend, logger);
}
