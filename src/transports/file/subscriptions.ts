import type { SubscribeHandlers } from '../../core/transport';

/** One subscriber of the file backend and how far it has read. */
export interface Subscription {
  /** Byte offset just past the last line delivered to it. */
  offset: number;
  readonly handlers: SubscribeHandlers;
  /** False once unsubscribed or closed: nothing more is delivered, even mid-read. */
  active: boolean;
}

/**
 * The subscribers of one file backend. Iterating is live (a subscriber that unsubscribes while
 * lines are delivered is skipped from then on), as iterating a `Set` is.
 */
export interface Subscriptions extends Iterable<Subscription> {
  readonly size: number;
  /** Registers a subscriber that has read up to `offset`. */
  add(offset: number, handlers: SubscribeHandlers): Subscription;
  /** Ends one subscription. */
  remove(sub: Subscription): void;
  /** Ends every subscription (the backend closes). */
  clear(): void;
  /** How far the file has been read: the furthest offset of an active subscriber (0 with none). */
  known(): number;
}

export function createSubscriptions(): Subscriptions {
  const subs = new Set<Subscription>();
  return {
    get size() {
      return subs.size;
    },
    [Symbol.iterator]: () => subs.values(),
    add(offset, handlers) {
      const sub: Subscription = { offset, handlers, active: true };
      subs.add(sub);
      return sub;
    },
    remove(sub) {
      sub.active = false;
      subs.delete(sub);
    },
    clear() {
      for (const s of subs) s.active = false;
      subs.clear();
    },
    known: () => Math.max(0, ...[...subs].filter((s) => s.active).map((s) => s.offset)),
  };
}
