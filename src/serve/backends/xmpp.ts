import { InputError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { signsIn, type AccountAccess, type ServeBackend } from '../backend';

/**
 * `--backend xmpp://domain[:port][?service=xmpp://host:port&email-domain=example.org]`: the XMPP
 * server keeps the accounts. A client signs in with its JID and password; the server logs in as
 * that account, whose own message archive holds its history (as `fk --backend xmpp://…` keeps it).
 *
 * Flowkeeper's client only takes users whose domain has a dot and a 2–4 letter top level
 * (`alice@localhost` is refused by its own line parser). `email-domain` lets such a server be
 * used: a client signing in as `alice@<email-domain>` is the XMPP account `alice@<domain>`. Only
 * that e-mail domain is accepted (by default: the XMPP domain itself). DeleteAccount is refused:
 * an account cannot delete its archive over XMPP, and deleting the XMPP account is not ours to do.
 */
export async function createXmppBackend(backend: string, logger: Logger): Promise<ServeBackend> {
  const { domain, service, emailDomain } = parse(backend);
  const { createXmppTransport } = await import('../../transports/xmpp');
  const optionsFor = (local: string, password: string) => ({ service, domain, username: local, password, logger });
  return {
    kind: 'xmpp',
    where: `${domain} (${service})`,
    async authenticate(email, password) {
      const at = email.lastIndexOf('@');
      const local = email.slice(0, at);
      if (at < 1 || email.slice(at + 1).toLowerCase() !== emailDomain.toLowerCase()) return null;
      if (!(await signsIn(createXmppTransport(optionsFor(local, password))))) return null;
      const access: AccountAccess = { email, openHistory: () => createXmppTransport(optionsFor(local, password)) };
      return access;
    },
    close: async () => undefined,
  };
}

function parse(backend: string): { domain: string; service: string; emailDomain: string } {
  let u: URL;
  try {
    u = new URL(backend);
  } catch (err) {
    throw new InputError('FK_CONFIG_INVALID', `backend '${backend}' is not a valid xmpp:// URL`, { cause: err });
  }
  if (u.username || u.password) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      'an fk serve xmpp:// backend names no account: each client signs in with its own JID and password',
    );
  }
  const domain = u.hostname;
  if (!domain) throw new InputError('FK_CONFIG_INVALID', `backend '${backend}' names no XMPP domain: xmpp://domain`);
  const service = u.searchParams.get('service') ?? `xmpp://${domain}:${u.port || '5222'}`;
  if (!/^xmpps?:\/\/[^/]+$/.test(service)) {
    throw new InputError('FK_CONFIG_INVALID', `xmpp service must look like xmpp://host:port, got '${service}'`);
  }
  for (const key of u.searchParams.keys()) {
    if (key !== 'service' && key !== 'email-domain')
      throw new InputError('FK_CONFIG_INVALID', `unknown xmpp backend parameter '${key}' (service, email-domain)`);
  }
  return { domain, service, emailDomain: u.searchParams.get('email-domain') ?? domain };
}
