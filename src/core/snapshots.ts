import type { HistoryState } from './engine/engine';
import type { CachedEntry } from './replicaFollower';

/** A saved model and the log position it covers (everything before `position` is in it). */
export interface StateSnapshot {
  readonly state: HistoryState;
  readonly position: string;
  /**
   * Restores the same snapshot once more, as an independent model (cheap when it is read on
   * demand): what a client checks actions against, instead of a clone of all of `state`.
   */
  readonly fork?: () => HistoryState;
}

/**
 * Where a client keeps verified snapshots of its model, so that a restart replays only what was
 * appended since (app/snapshotStore.ts for files). A snapshot is cache: `load` returns one only
 * after checking it still describes the log's beginning (else null, and it is discarded); `save`
 * may decline (too little new to be worth writing). Restored, a snapshot is exactly the model a
 * client that had kept running since it was taken would hold.
 */
export interface SnapshotStore {
  /**
   * `replica`: for a broker, the local replica's entries the client is about to apply; the
   * snapshot must cover a prefix of them (its `state.lineNumber` entries), else it is not used.
   */
  load(replica?: readonly CachedEntry[]): Promise<StateSnapshot | null>;
  /**
   * `fresh`: lines applied since the snapshot that was loaded (all of them without one).
   * `replica`: for a broker, exactly the entries `state` was built from.
   */
  save(state: HistoryState, position: string, fresh: number, replica?: readonly CachedEntry[]): Promise<void>;
}
