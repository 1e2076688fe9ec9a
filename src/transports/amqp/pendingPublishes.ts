import type { PublishMeta } from '../../core/transport';

/** A publish sent (or about to be sent) and not yet confirmed by the broker. */
export interface PendingPublish {
  readonly line: string;
  readonly meta: PublishMeta;
}

interface Entry extends PendingPublish {
  readonly since: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** How often unconfirmed publishes are checked against the timeout. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * @internal
 * The unconfirmed publishes of a transport, in publish order, so they can be sent again after a
 * reconnect. Each is settled once: by `settle`, by the timeout (one sweeping interval timer that
 * runs only while something is pending), or by `rejectAll`.
 */
export class PendingPublishes {
  readonly #entries = new Set<Entry>();
  #sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timeoutMs: number,
    private readonly timeoutError: (p: PendingPublish) => Error,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Registers a publish; `send` is called with it right away. */
  add(line: string, meta: PublishMeta, send: (p: PendingPublish) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { line, meta, since: Date.now(), resolve, reject };
      this.#entries.add(entry);
      this.#sweepTimer ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
      send(entry);
    });
  }

  /** True while `p` waits for its confirm. */
  has(p: PendingPublish): boolean {
    return this.#entries.has(p as Entry);
  }

  /** Resolves (no error) or rejects `p`, once. */
  settle(p: PendingPublish, err?: Error): void {
    const entry = p as Entry;
    if (!this.#entries.delete(entry)) return;
    if (err === undefined) entry.resolve();
    else entry.reject(err);
    this.#stopIfIdle();
  }

  /** Every pending publish, oldest first. */
  values(): PendingPublish[] {
    return [...this.#entries];
  }

  /** Rejects everything (on close) and stops the timer. */
  rejectAll(err: (p: PendingPublish) => Error): void {
    for (const entry of this.values()) this.settle(entry, err(entry));
    this.#stopIfIdle();
  }

  #sweep(): void {
    const now = Date.now();
    for (const entry of this.#entries) {
      if (now - entry.since < this.timeoutMs) break; // insertion order is time order
      this.settle(entry, this.timeoutError(entry));
    }
  }

  #stopIfIdle(): void {
    if (this.#entries.size === 0 && this.#sweepTimer !== null) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = null;
    }
  }
}
