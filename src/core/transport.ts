/**
 * The one small interface every backend implements (file, memory, AMQP, XMPP).
 *
 * A backend is passive (design point 1): it stores opaque, already serialized and encrypted lines
 * in one total order and hands them back in that order. It never parses, decrypts or logs them.
 * Ordering and validation of sequence numbers are the client's job (see `core/client.ts`).
 */

/** Where a transport is. `offline` means we are retrying; `closed` is final. */
export type TransportStatus =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'online' }
  | { readonly kind: 'offline'; readonly reason: string; readonly retryInMs?: number }
  | { readonly kind: 'closed' };

/** One stored history entry, as the backend returns it. */
export interface TransportEntry {
  /** The serialized (usually encrypted) history line, exactly as published. */
  readonly line: string;
  /**
   * Opaque resume point of this entry in the backend's total order (a stream offset, an archive id,
   * a byte offset). Passing it to `subscribe` resumes strictly after this entry.
   */
  readonly position: string;
  /** The id given to `publish`, when the backend keeps it: lets readers spot duplicated publishes. */
  readonly id?: string;
}

/** Metadata the backend may see and store next to the opaque line. Never business content. */
export interface PublishMeta {
  /** Unique id of this record, used to deduplicate retried publishes. */
  readonly id: string;
  /** The sequence number the writer proposes. */
  readonly seq: number;
}

export interface SubscribeHandlers {
  /** Called once per entry, in the backend's order, never concurrently. */
  readonly onEntry: (entry: TransportEntry) => void;
  /**
   * Called once every entry that existed when the subscription started has been delivered, i.e.
   * the reader is caught up and what follows is the live tail. Called again after a reconnect
   * once the reader has caught up again.
   */
  readonly onCaughtUp?: () => void;
}

export type Unsubscribe = () => Promise<void>;

export interface Transport {
  /** Connects (or opens) the backend; rejects with a `TransportError` naming the endpoint. */
  connect(): Promise<void>;
  /** Stores one line at the end of the log. Resolves once the backend confirmed it durably. */
  publish(line: string, meta: PublishMeta): Promise<void>;
  /**
   * Delivers every entry after `from` (null: from the very beginning), then the live tail, until
   * unsubscribed or closed. After a reconnect, delivery resumes after the last delivered entry:
   * no entry is skipped or delivered twice.
   */
  subscribe(from: string | null, handlers: SubscribeHandlers): Promise<Unsubscribe>;
  /** Releases every resource; idempotent. */
  close(): Promise<void>;
  /** Registers a status listener; returns a function that removes it. */
  onStatus(listener: (status: TransportStatus) => void): () => void;
}
