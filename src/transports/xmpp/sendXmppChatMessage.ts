import { randomUUID } from 'node:crypto';
import { InputError, TransportError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { normalizeXmppOptions } from './options';
import { chatMessage, errorCondition, ping } from './stanza';
import { openXmppConnection } from './xmppConnection';

/** What {@link sendXmppChatMessage} needs: an account to send from, a recipient and the text. */
export interface XmppChatMessage {
  /** As in `XmppTransportOptions.service`. */
  readonly service: string;
  /** @default the host name of `service` */
  readonly domain?: string;
  /** Local part of the sending account (a bot account, or the user's own). */
  readonly username: string;
  /** Never logged; masked in error messages. */
  readonly password: string;
  /** Recipient JID (`user@domain`, optionally with a resource). */
  readonly to: string;
  /** The text shown to the recipient. Not logged. */
  readonly body: string;
  /**
   * Timeout of the connect and of the delivery check, each.
   * @default 10000 for the connect, 30000 for the delivery check (the transport's defaults)
   */
  readonly timeoutMs?: number;
  /** Logger; the body is never logged. @default silentLogger */
  readonly logger?: Logger;
}

const JID_RE = /^[^\s@/]+@[^\s@/]+(\/\S+)?$/;

/**
 * Sends one chat message (notifications: "pomodoro finished"), then disconnects. Resolves once the
 * sender's server processed the message: an IQ ping sent after it is answered, and servers process
 * a client's stanzas in order (RFC 6120 §10.1). A bounce for the message that arrives before that
 * (unknown or unavailable recipient on the same server) rejects with `FK_TRANSPORT_UNAVAILABLE`.
 * Bad credentials reject with `FK_AUTH_FAILED`; an unreachable server with `FK_TRANSPORT_UNAVAILABLE`.
 *
 * @example
 * await sendXmppChatMessage({ service: 'xmpp://127.0.0.1:5222', domain: 'localhost',
 *   username: 'fk-bot', password, to: 'alice@localhost', body: 'Pomodoro finished' });
 */
export async function sendXmppChatMessage(message: XmppChatMessage): Promise<void> {
  if (typeof message.to !== 'string' || !JID_RE.test(message.to)) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `recipient must be a JID like 'user@domain', got '${String(message.to)}'`,
      {
        details: { field: 'to', value: String(message.to) },
      },
    );
  }
  if (typeof message.body !== 'string' || message.body.length === 0) {
    throw new InputError('FK_INPUT_INVALID', 'message body must be a non-empty string', { details: { field: 'body' } });
  }
  const opts = normalizeXmppOptions({
    service: message.service,
    domain: message.domain,
    username: message.username,
    password: message.password,
    resource: `flowkeeper-notify-${randomUUID().slice(0, 8)}`,
    connectTimeoutMs: message.timeoutMs,
    requestTimeoutMs: message.timeoutMs,
    logger: message.logger,
  });
  const log = opts.logger.child({ component: 'xmpp-notify', endpoint: opts.service });
  const id = randomUUID();
  let bounce: string | null = null;
  const conn = openXmppConnection(
    opts,
    log,
    {
      onStanza: (stanza) => {
        if (stanza.name === 'message' && stanza.attrs.type === 'error' && stanza.attrs.id === id)
          bounce = errorCondition(stanza);
      },
    },
    false,
  );
  try {
    await conn.start();
    await conn.send(chatMessage(message.to, message.body, id));
    await conn.request(ping(opts.domain), 'ping after message');
    if (bounce !== null) {
      throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `xmpp message to '${message.to}' was refused: ${bounce}`, {
        retryable: false,
        details: { to: message.to, condition: bounce },
      });
    }
    log.info({ to: message.to }, 'notification sent');
  } finally {
    await conn.stop();
  }
}
