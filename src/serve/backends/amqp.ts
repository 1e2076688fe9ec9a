import { historyName } from '../../app/historyName';
import { InputError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { signsIn, type AccountAccess, type ServeBackend } from '../backend';

/**
 * `--backend amqp://host[:port]/vhost`: RabbitMQ keeps the accounts. A client's e-mail and
 * password are its broker credentials; the server connects as that user, so the broker's
 * permissions (configure, write and read on `fk.history.<name>` only, see docs/amqp.md) are what
 * keeps one account out of another's history. The history is the stream `fk.history.<name>`, as
 * `fk --backend amqp://… --user <e-mail>` names it.
 */
export async function createAmqpBackend(backend: string, logger: Logger): Promise<ServeBackend> {
  const base = baseUrl(backend);
  const { createAmqpTransport, deleteAmqpHistory } = await import('../../transports/amqp');
  const optionsFor = (email: string, password: string): { url: string; history: string } => {
    const u = new URL(base.toString());
    u.username = encodeURIComponent(email);
    u.password = encodeURIComponent(password);
    return { url: u.toString(), history: historyName(email) };
  };
  return {
    kind: 'amqp',
    where: `${base.host}${base.pathname}`,
    async authenticate(email, password) {
      const options = optionsFor(email, password);
      // Signing in is connecting as the user and declaring its history (which needs its permissions).
      if (!(await signsIn(createAmqpTransport(options, { logger })))) return null;
      const access: AccountAccess = {
        email,
        openHistory: () => createAmqpTransport(options, { logger }),
        deleteHistory: () => deleteAmqpHistory(options),
      };
      return access;
    },
    close: async () => undefined,
  };
}

function baseUrl(backend: string): URL {
  let u: URL;
  try {
    u = new URL(backend);
  } catch (err) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `backend '${backend.replace(/\/\/[^@/]*@/, '//***@')}' is not a valid amqp:// URL`,
      { cause: err },
    );
  }
  if (u.username || u.password) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      'an fk serve amqp:// backend names no user: each client signs in to the broker with its own e-mail and password',
    );
  }
  return u;
}
