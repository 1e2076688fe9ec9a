import type { Logger } from './logger';
import type { TransportEntry } from './transport';

/** One log entry as a replica keeps it: the stored (still encrypted) line and its position. */
export interface CachedEntry {
  readonly line: string;
  readonly position: string;
}

/**
 * Local replica of a broker log, so a restart does not download everything again. Any number of
 * processes may share one (five `fk` commands at once): `load` must return a prefix of the log
 * exactly as the backend orders it (entries 1..n, nothing missing, nothing twice), whatever the
 * others appended meanwhile; `append(index, entries)` adds entries `index+1 …` of the log.
 * The client verifies the prefix against the backend before it trusts it.
 */
export interface ReplicaCache {
  load(): Promise<readonly CachedEntry[]>;
  append(index: number, entries: readonly CachedEntry[]): Promise<void>;
  clear(): Promise<void>;
}

/** `apply`: apply the entry; `mismatch`: the cache holds another log than the backend. */
export type Offer = 'apply' | 'mismatch';

/**
 * @internal
 * The client's side of a replica: what it loaded, where to resume, and the check that the cache
 * belongs to the log the backend serves. The subscription resumes after the second-to-last cached
 * entry, so the first entry delivered must be the last cached one, same line and same position;
 * anything else (a deleted and re-created history, a cache of another log) makes the client
 * rebuild from the backend.
 */
export interface ReplicaFollower {
  load(): Promise<readonly CachedEntry[]>;
  /** The position to subscribe from after `load` (null: from the beginning). */
  resumeFrom(): string | null;
  /** Every delivered entry goes through here first. */
  offer(entry: TransportEntry): Offer;
  /** True while the confirming entry has not arrived. */
  verifying(): boolean;
  /** Writes the entries seen since the last flush. */
  flush(): Promise<void>;
  clear(): Promise<void>;
}

export function createReplicaFollower(cache: ReplicaCache, log: Logger): ReplicaFollower {
  /** Entries of the log the cache holds or is being given. */
  let flushed = 0;
  let buffer: CachedEntry[] = [];
  let confirm: CachedEntry | null = null;
  let from: string | null = null;
  let writing: Promise<void> = Promise.resolve();

  return {
    async load() {
      let entries: readonly CachedEntry[];
      try {
        entries = await cache.load();
      } catch (err) {
        log.warn({ err }, 'replica cache unreadable, rebuilding from the backend');
        entries = [];
      }
      if (entries.length === 0) return [];
      const last = entries[entries.length - 1] as CachedEntry;
      confirm = last;
      from = entries.length >= 2 ? (entries[entries.length - 2] as CachedEntry).position : null;
      flushed = entries.length;
      // The confirming entry is applied when the backend delivers it, not from the cache.
      return entries.slice(0, -1);
    },
    resumeFrom: () => from,
    offer(entry) {
      if (confirm !== null) {
        const ok = entry.line === confirm.line && entry.position === confirm.position;
        confirm = null;
        // Applied now (the cache stopped short of it), but not written again.
        return ok ? 'apply' : 'mismatch';
      }
      buffer.push({ line: entry.line, position: entry.position });
      return 'apply';
    },
    verifying: () => confirm !== null,
    flush() {
      if (buffer.length === 0) return writing;
      const entries = buffer;
      const index = flushed;
      buffer = [];
      flushed += entries.length;
      // One write at a time, in order; a failed write costs only a later re-download.
      writing = writing
        .then(() => cache.append(index, entries))
        .catch((err: unknown) => log.warn({ err }, 'replica cache write failed'));
      return writing;
    },
    async clear() {
      flushed = 0;
      buffer = [];
      confirm = null;
      from = null;
      await cache.clear();
    },
  };
}
