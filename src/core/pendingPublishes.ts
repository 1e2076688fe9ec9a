import type { PublishMeta } from './transport';

/** A publish sent (or about to be sent) and not yet confirmed by the backend. */
export interface PendingPublish<E = undefined> {
  readonly line: string;
  readonly meta: PublishMeta;
  /** When it was registered (the registry's clock). */
  readonly since: number;
  /** What the transport keeps with it (a stanza, a resend flag, …). */
  readonly extra: E;
  /** Settles once: by `settle`, by expiry (the transport's sweep), or by `rejectAll`. */
  readonly promise: Promise<void>;
}

interface Entry<E> extends PendingPublish<E> {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export interface PendingPublishesHooks {
  /** Milliseconds clock. @default Date.now */
  readonly now?: () => number;
  /** The first publish is pending: start sweeping (the transport owns the timer). */
  readonly onBusy?: () => void;
  /** Nothing is pending any more: stop sweeping. */
  readonly onIdle?: () => void;
}

/**
 * The unconfirmed publishes of a transport, in publish order and by id, so they can be sent again
 * after a reconnect and timed out. No timers here: the transport sweeps `expired()` while busy
 * (`onBusy`/`onIdle` tell it when), so this stays pure and testable with a fake clock.
 */
export class PendingPublishes<E = undefined> {
  readonly #byId = new Map<string, Entry<E>>();
  readonly #now: () => number;

  constructor(private readonly hooks: PendingPublishesHooks = {}) {
    this.#now = hooks.now ?? Date.now;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Registers a publish; an id already pending is not registered twice (its entry is returned). */
  add(line: string, meta: PublishMeta, extra: E): PendingPublish<E> {
    const existing = this.#byId.get(meta.id);
    if (existing !== undefined) return existing;
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Entry<E> = { line, meta, since: this.#now(), extra, promise, resolve, reject };
    this.#byId.set(meta.id, entry);
    if (this.#byId.size === 1) this.hooks.onBusy?.();
    return entry;
  }

  get(id: string): PendingPublish<E> | undefined {
    return this.#byId.get(id);
  }

  /** True while `p` waits for its confirmation. */
  has(p: PendingPublish<E>): boolean {
    return this.#byId.get(p.meta.id) === p;
  }

  /** Resolves (no error) or rejects `p`, once. */
  settle(p: PendingPublish<E>, err?: Error): void {
    const entry = this.#byId.get(p.meta.id);
    if (entry !== p) return;
    this.#byId.delete(p.meta.id);
    if (err === undefined) entry.resolve();
    else entry.reject(err);
    if (this.#byId.size === 0) this.hooks.onIdle?.();
  }

  /** Every pending publish, oldest first. */
  values(): PendingPublish<E>[] {
    return [...this.#byId.values()];
  }

  /** Rejects every publish pending for `timeoutMs` or longer with `err(p)`. */
  expire(timeoutMs: number, err: (p: PendingPublish<E>) => Error): void {
    const now = this.#now();
    for (const entry of this.values()) {
      if (now - entry.since < timeoutMs) break; // insertion order is time order
      this.settle(entry, err(entry));
    }
  }

  /** Rejects everything (on close). */
  rejectAll(err: (p: PendingPublish<E>) => Error): void {
    for (const entry of this.values()) this.settle(entry, err(entry));
  }
}
