import { InputError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Transport } from '../core/transport';
import type { Config } from './config';

/** Builds the XMPP transport from `xmpp://user@domain[:port]` (password from FK_XMPP_PASSWORD). */
export async function createXmppTransportFromUrl(config: Config, _logger: Logger): Promise<Transport> {
  throw new InputError('FK_CONFIG_INVALID', `xmpp backend '${config.backend}' is not wired into the CLI yet`);
}
