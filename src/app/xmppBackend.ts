import { isIP } from 'node:net';
import { InputError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Transport } from '../core/transport';
import { resolveXmppSettings } from './brokerOptions';
import { redactBackend, type Config } from './config';

/**
 * `xmpp://user[:password]@domain[:port][?service=xmpp://host:port]` → XMPP transport options.
 * The history lives in that account's own message archive; the password comes from the URL or,
 * better, FK_XMPP_PASSWORD (a URL in the config file is fine, a flag shows up in `ps`).
 */
export function xmppOptionsFromUrl(
  backend: string,
  env: NodeJS.ProcessEnv = process.env,
): {
  service: string;
  domain: string;
  username: string;
  password: string;
} {
  let url: URL;
  try {
    url = new URL(backend);
  } catch (err) {
    throw new InputError('FK_CONFIG_INVALID', `backend '${redactBackend(backend)}' is not a valid xmpp:// URL`, {
      cause: err,
    });
  }
  const username = decodeURIComponent(url.username);
  const domain = url.hostname;
  if (!username || !domain) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `backend '${redactBackend(backend)}' must name an account: xmpp://user@domain`,
    );
  }
  const password = url.password ? decodeURIComponent(url.password) : env.FK_XMPP_PASSWORD;
  if (!password) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `no password for xmpp account '${username}@${domain}': set FK_XMPP_PASSWORD`,
    );
  }
  const explicit = url.searchParams.get('service');
  const service = explicit ?? `xmpp://${domain}:${url.port || '5222'}`;
  if (!/^xmpps?:\/\/[^/]+$/.test(service)) {
    throw new InputError('FK_CONFIG_INVALID', `xmpp service must look like xmpp://host:port, got '${service}'`);
  }
  return { service, domain, username, password };
}

/** One SRV answer (node:dns `SrvRecord`). */
export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export type ResolveSrv = (name: string) => Promise<SrvRecord[]>;

/** node:dns with a short, bounded wait: a missing DNS server must not stall every command. */
const systemResolveSrv: ResolveSrv = async (name) => {
  const { Resolver } = await import('node:dns/promises');
  return new Resolver({ timeout: 2000, tries: 2 }).resolveSrv(name);
};

/**
 * The service of an `xmpp://user@domain` URL that names no port and no `?service=`: the target
 * of `_xmpp-client._tcp.<domain>` (RFC 6120 §3.2.1; the lowest priority, weighted by RFC 2782
 * among equals), or `xmpp://<domain>:5222` when the domain publishes none or DNS does not answer.
 * `null` when the URL fixes the service itself (or names an IP address or localhost).
 * @xmpp/client does SRV only for a bare-domain `service` and then also fetches XEP-0156 host-meta
 * over HTTPS, so fk does the lookup itself and hands the library a full URL.
 */
export async function srvService(
  backend: string,
  resolveSrv: ResolveSrv = systemResolveSrv,
  random: () => number = Math.random,
): Promise<string | null> {
  const url = new URL(backend);
  const domain = url.hostname;
  const literal = domain === 'localhost' || isIP(domain.replace(/^\[|\]$/g, '')) !== 0;
  if (url.port !== '' || url.searchParams.has('service') || literal) return null;
  let records: SrvRecord[];
  try {
    records = await resolveSrv(`_xmpp-client._tcp.${domain}`);
  } catch {
    return null; // ENOTFOUND, ENODATA, timeout: the domain itself on 5222, as before SRV
  }
  if (records.length === 1 && records[0]?.name === '.') {
    const message = `the XMPP domain '${domain}' says it offers no client service (SRV target '.')`;
    throw new InputError('FK_CONFIG_INVALID', message);
  }
  const best = Math.min(...records.map((r) => r.priority));
  const pool = records.filter((r) => r.priority === best && r.name !== '.');
  if (pool.length === 0) return null;
  const total = pool.reduce((n, r) => n + r.weight, 0);
  let pick = random() * total;
  const chosen = pool.find((r) => (pick -= r.weight) < 0) ?? (pool[0] as SrvRecord);
  return `xmpp://${chosen.name.replace(/\.$/, '')}:${chosen.port}`;
}

/** Builds the XMPP transport for `config.backend` (loaded only when an xmpp:// backend is used). */
export async function createXmppTransportFromUrl(
  config: Config,
  logger: Logger,
  resolveSrv?: ResolveSrv,
): Promise<Transport> {
  const settings = resolveXmppSettings(config);
  const options = xmppOptionsFromUrl(config.backend);
  const service = settings.srv ? await srvService(config.backend, resolveSrv) : null;
  const { createXmppTransport } = await import('../transports/xmpp');
  return createXmppTransport({
    ...options,
    ...(service !== null ? { service } : {}),
    retryLowMs: Math.min(1000, settings.reconnectMaxMs),
    retryHighMs: settings.reconnectMaxMs,
    readOnly: config.readOnly === true,
    logger,
  });
}
