import type { SubscribeHandlers, Transport, TransportEntry } from '../../src/core/transport';

/**
 * A real transport seen through a tap (integration tier): counts what its subscriptions deliver
 * and can hold deliveries back, so a test can make a client's view stale at an exact moment
 * (a lost race) without timing tricks. Everything else is passed through unchanged.
 */
export interface TransportTap extends Transport {
  /** Entries handed to subscribers so far (held ones included once released). */
  readonly delivered: number;
  /** Position of the last entry handed to a subscriber. */
  readonly lastPosition: string | null;
  /** `publish` calls so far. */
  readonly published: number;
  /** Holds every delivery (entries and caught-up signals) until `resume`. */
  pause(): void;
  /** Delivers what was held, in order, and stops holding. */
  resume(): void;
}

export function tapTransport(inner: Transport): TransportTap {
  let delivered = 0;
  let published = 0;
  let lastPosition: string | null = null;
  let paused = false;
  let held: Array<() => void> = [];
  const pass = (deliver: () => void): void => {
    if (paused) held.push(deliver);
    else deliver();
  };
  return {
    connect: () => inner.connect(),
    publish: (line, meta) => {
      published++;
      return inner.publish(line, meta);
    },
    subscribe: (from: string | null, handlers: SubscribeHandlers) =>
      inner.subscribe(from, {
        onEntry: (e: TransportEntry) =>
          pass(() => {
            delivered++;
            lastPosition = e.position;
            handlers.onEntry(e);
          }),
        onCaughtUp: () => pass(() => handlers.onCaughtUp?.()),
      }),
    close: () => inner.close(),
    onStatus: (listener) => inner.onStatus(listener),
    get delivered() {
      return delivered;
    },
    get lastPosition() {
      return lastPosition;
    },
    get published() {
      return published;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      const h = held;
      held = [];
      h.forEach((deliver) => deliver());
    },
  };
}
