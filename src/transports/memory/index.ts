import type {
  PublishMeta,
  SubscribeHandlers,
  Transport,
  TransportEntry,
  TransportStatus,
  Unsubscribe,
} from '../../core/transport';
import { TransportError } from '../../core/errors';

/** An in-process log shared by every transport created on it: a stand-in for one broker. */
export interface MemoryHub {
  readonly entries: TransportEntry[];
  readonly listeners: Set<(entry: TransportEntry) => void>;
}

export function createMemoryHub(): MemoryHub {
  return { entries: [], listeners: new Set() };
}

/**
 * In-process transport: unit tests and `--backend memory`. Entries are delivered asynchronously
 * (on a microtask) so callers see the same ordering hazards as with a real broker.
 */
export function createMemoryTransport(hub: MemoryHub = createMemoryHub()): Transport {
  let state: 'new' | 'online' | 'closed' = 'new';
  const statusListeners = new Set<(s: TransportStatus) => void>();
  const subscriptions = new Set<() => void>();
  const setStatus = (s: TransportStatus): void => statusListeners.forEach((l) => l(s));
  const assertOnline = (op: string): void => {
    if (state === 'closed') throw new TransportError('FK_TRANSPORT_CLOSED', `memory transport is closed (${op})`);
    if (state !== 'online')
      throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `memory transport is not connected (${op})`);
  };
  return {
    async connect() {
      if (state === 'closed') throw new TransportError('FK_TRANSPORT_CLOSED', 'memory transport is closed (connect)');
      state = 'online';
      setStatus({ kind: 'online' });
    },
    async publish(line: string, meta: PublishMeta) {
      assertOnline('publish');
      const entry: TransportEntry = { line, position: String(hub.entries.length), id: meta.id };
      hub.entries.push(entry);
      for (const l of hub.listeners) l(entry);
    },
    async subscribe(from: string | null, handlers: SubscribeHandlers): Promise<Unsubscribe> {
      assertOnline('subscribe');
      let next = from === null ? 0 : Number(from) + 1;
      if (!Number.isInteger(next) || next < 0) {
        throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `memory transport: bad position '${String(from)}'`);
      }
      let active = true;
      let scheduled = false;
      let caughtUpSent = false;
      const drain = (): void => {
        scheduled = false;
        while (active && next < hub.entries.length) {
          const e = hub.entries[next++] as TransportEntry;
          handlers.onEntry(e);
        }
        if (active && !caughtUpSent) {
          caughtUpSent = true;
          handlers.onCaughtUp?.();
        }
      };
      const wake = (): void => {
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(drain);
        }
      };
      hub.listeners.add(wake);
      const stop = (): void => {
        active = false;
        hub.listeners.delete(wake);
      };
      subscriptions.add(stop);
      wake();
      return async () => {
        stop();
        subscriptions.delete(stop);
      };
    },
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      subscriptions.forEach((s) => s());
      subscriptions.clear();
      setStatus({ kind: 'closed' });
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
  };
}
