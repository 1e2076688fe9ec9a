/** XMPP backend, reached through the `./xmpp` subpath so core users never load `@xmpp/client`. */
export { createXmppTransport } from './xmppTransport';
export type { XmppTransportOptions } from './options';
export { sendXmppChatMessage } from './sendXmppChatMessage';
export type { XmppChatMessage } from './sendXmppChatMessage';
