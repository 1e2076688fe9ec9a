/**
 * The part of `@xmpp/client` 0.14 (ESM, untyped) this transport uses. Only this folder imports the
 * package (STYLE §2), so the declaration lives here. Shapes follow the package's sources:
 * @xmpp/connection (status events), @xmpp/reconnect, @xmpp/stream-management, ltx's Element.
 */
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';

  /** An ltx element (stanza or child). */
  export interface Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<Element | string>;
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    toString(): string;
  }

  export type XmlAttrs = Record<string, string | number | undefined>;

  export function xml(
    name: string,
    attrs?: XmlAttrs | null,
    ...children: Array<Element | string | null | undefined>
  ): Element;

  export interface JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
  }

  export function jid(address: string): JID;

  export interface Reconnect extends EventEmitter {
    /** Milliseconds between a `disconnect` and the next attempt; read when the attempt is scheduled. */
    delay: number;
    start(): void;
    stop(): void;
  }

  export interface StreamManagement extends EventEmitter {
    enabled: boolean;
    /** Set when `<enable/>` went out, i.e. the server offered XEP-0198. */
    enableSent: boolean;
  }

  export type ConnectionStatus =
    | 'offline'
    | 'connecting'
    | 'connect'
    | 'opening'
    | 'open'
    | 'online'
    | 'closing'
    | 'close'
    | 'disconnecting'
    | 'disconnect';

  export interface Client extends EventEmitter {
    status: ConnectionStatus;
    jid: JID | null;
    reconnect: Reconnect;
    streamManagement: StreamManagement;
    /** The current socket (a `net.Socket` for xmpp://, a WebSocket wrapper for ws://). */
    socket: { setNoDelay?: (noDelay: boolean) => unknown; destroy?: () => unknown } | null;
    iqCaller: { request(iq: Element, timeoutMs?: number): Promise<Element> };
    start(): Promise<JID>;
    stop(): Promise<unknown>;
    disconnect(): Promise<unknown>;
    send(element: Element): Promise<void>;
  }

  export interface ClientOptions {
    service: string;
    domain?: string;
    username?: string;
    password?: string;
    resource?: string;
    timeout?: number;
  }

  export function client(options: ClientOptions): Client;
}
