import type { Logger } from '../core/logger';
import { legacyEventId, matchesFilter, type FkEvent, type FkEventType } from '../core/notify/notifications';
import type { ClaimStore } from './claims';
import type { Outbox } from './outbox';
import type { Target } from './targets';

/** Counters of what the acceptor did (metrics). */
export interface AcceptStats {
  readonly derived: ReadonlyMap<FkEventType, number>;
  /** Not sent again: already in the outbox, or claimed by another daemon. */
  readonly deduplicated: number;
}

export interface Acceptor {
  /** Dedupes an event by id (own outbox, then the shared claims) and makes it durable. */
  accept(event: FkEvent): void;
  /** Stops accepting (shutdown): later events are ignored. */
  close(): void;
  readonly stats: AcceptStats;
}

export interface AcceptorDeps {
  readonly outbox: Outbox;
  readonly claims: ClaimStore;
  readonly targets: readonly Target[];
  /** A target has something new in the outbox. */
  readonly kick: (target: string) => void;
  /** Called after every accepted event (checkpoints follow). */
  readonly onAccepted?: () => void;
  readonly logger: Logger;
}

/**
 * Between the session watchers and the delivery loops: an event is appended (fsynced) to the
 * outbox with the targets that still owe it before any target sees it. Daemons sharing a dedupe
 * directory claim `(destination, id)` first, so each destination gets an id from one daemon only;
 * the daemon's own events and destinations without a dedupe key are per daemon.
 */
export function createAcceptor(deps: AcceptorDeps): Acceptor {
  const { outbox, claims, targets } = deps;
  const derived = new Map<FkEventType, number>();
  let deduplicated = 0;
  let open = true;

  return {
    accept(event) {
      if (!open) return;
      derived.set(event.type, (derived.get(event.type) ?? 0) + 1);
      // Ids of record events gained `#<seq>` (see `eventId`): what this daemon accepted before an
      // in-place upgrade, under the id without it, is not accepted again.
      const legacy = legacyEventId(event.id);
      if (outbox.has(event.id) || (legacy !== event.id && outbox.has(legacy))) {
        deduplicated++;
        return;
      }
      const perDaemon = event.type.startsWith('daemon.');
      const wanted = targets.filter((t) => matchesFilter(t.events, event.type));
      // The id without `#<seq>` is claimed first, so daemons of both versions sharing a dedupe
      // directory give a destination each happening from one daemon only: its owner claims the
      // full ids of every happening under it (distinct happenings once shared that old id).
      const claim = (key: string): boolean =>
        (legacy === event.id || claims.claim(key, legacy) !== 'theirs') && claims.claim(key, event.id) !== 'theirs';
      const mine = wanted.filter((t) => perDaemon || t.dedupeKey === null || claim(t.dedupeKey));
      if (mine.length < wanted.length) deduplicated++;
      if (mine.length === 0) {
        if (wanted.length > 0) outbox.markSeen(event.id);
        return;
      }
      outbox.add(
        event,
        mine.map((t) => t.name),
      );
      deps.logger.debug({ id: event.id, type: event.type, targets: mine.length }, 'event accepted');
      for (const t of mine) deps.kick(t.name);
      deps.onAccepted?.();
    },
    close() {
      open = false;
    },
    stats: {
      derived,
      get deduplicated() {
        return deduplicated;
      },
    },
  };
}
