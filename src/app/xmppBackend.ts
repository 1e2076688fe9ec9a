import { InputError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Transport } from '../core/transport';
import { redactBackend, type Config } from './config';

/**
 * `xmpp://user[:password]@domain[:port][?service=xmpp://host:port]` → XMPP transport options.
 * The history lives in that account's own message archive; the password comes from the URL or,
 * better, FK_XMPP_PASSWORD (a URL in the config file is fine, a flag shows up in `ps`).
 */
export function xmppOptionsFromUrl(backend: string, env: NodeJS.ProcessEnv = process.env): {
  service: string;
  domain: string;
  username: string;
  password: string;
} {
  let url: URL;
  try {
    url = new URL(backend);
  } catch (err) {
    throw new InputError('FK_CONFIG_INVALID', `backend '${redactBackend(backend)}' is not a valid xmpp:// URL`, { cause: err });
  }
  const username = decodeURIComponent(url.username);
  const domain = url.hostname;
  if (!username || !domain) {
    throw new InputError('FK_CONFIG_INVALID', `backend '${redactBackend(backend)}' must name an account: xmpp://user@domain`);
  }
  const password = url.password ? decodeURIComponent(url.password) : env.FK_XMPP_PASSWORD;
  if (!password) {
    throw new InputError('FK_CONFIG_INVALID', `no password for xmpp account '${username}@${domain}': set FK_XMPP_PASSWORD`);
  }
  const explicit = url.searchParams.get('service');
  const service = explicit ?? `xmpp://${domain}:${url.port || '5222'}`;
  if (!/^xmpps?:\/\/[^/]+$/.test(service)) {
    throw new InputError('FK_CONFIG_INVALID', `xmpp service must look like xmpp://host:port, got '${service}'`);
  }
  return { service, domain, username, password };
}

/** Builds the XMPP transport for `config.backend` (loaded only when an xmpp:// backend is used). */
export async function createXmppTransportFromUrl(config: Config, logger: Logger): Promise<Transport> {
  const { createXmppTransport } = await import('../transports/xmpp');
  return createXmppTransport({ ...xmppOptionsFromUrl(config.backend), logger });
}
