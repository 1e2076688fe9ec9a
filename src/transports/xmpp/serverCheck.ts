import { TransportError } from '../../core/errors';
import { NS_CARBONS, NS_MAM, NS_SID, discoFeatures, discoInfoQuery, mamPrefsQuery, prefsArchiveSelf } from './stanza';
import type { XmppConnection } from './xmppConnection';

/**
 * Refuses a server or account that would lose or hide records, before anything is published.
 * Checked over the wire:
 * - the account's archive (disco#info on the bare JID, XEP-0313 §7): `urn:xmpp:mam:2`, and
 *   `urn:xmpp:sid:0` (the stanza id on live copies is how a publish is confirmed);
 * - carbons on the server (XEP-0280 §3): live copies to every resource of the account;
 * - the archiving preferences (XEP-0313 §6): messages to self are stored.
 * Not visible to a client (docs/xmpp.md): retention (Prosody `archive_expires_after`), archive
 * quotas or truncation (`storage_archive_item_limit`), and the server's page-size cap.
 */
export async function assertServerSupport(conn: XmppConnection, domain: string): Promise<void> {
  const account = conn.ownBare;
  const refuse = (what: string, detail: string): never => {
    throw new TransportError(
      'FK_TRANSPORT_UNAVAILABLE',
      `xmpp server '${domain}' cannot keep the history of '${account}': ${what}`,
      {
        retryable: false,
        details: { account, missing: detail },
      },
    );
  };
  const accountFeatures = discoFeatures(await conn.request(discoInfoQuery(account), 'account disco#info'));
  if (!accountFeatures.has(NS_MAM)) refuse(`no message archive (XEP-0313 '${NS_MAM}')`, NS_MAM);
  if (!accountFeatures.has(NS_SID)) refuse(`archive does not stamp stanza ids (XEP-0359 '${NS_SID}')`, NS_SID);
  const serverFeatures = discoFeatures(await conn.request(discoInfoQuery(domain), 'server disco#info'));
  if (!serverFeatures.has(NS_CARBONS)) refuse(`no message carbons (XEP-0280 '${NS_CARBONS}')`, NS_CARBONS);
  const prefs = prefsArchiveSelf(await conn.request(mamPrefsQuery(), 'archive preferences'), account);
  if (!prefs.stored) {
    refuse(
      `archiving preferences do not store messages to self (default '${prefs.rule}'); set default='always' or ` +
        `list '${account}' under <always/>`,
      'mam-prefs',
    );
  }
}
