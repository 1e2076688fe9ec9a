import { cloneTenant } from './cloneTenant';
import type { StrategyRecord } from './records';
import { executeRecord, type HistoryState, type RecordContext } from './engine';

/**
 * @internal
 * The copy of a client's live model that new actions are checked against before they are
 * published (docs/design.md: a rejected action never touches the live model).
 *
 * Deep-copying the tenant for every action costs O(history): about 90 ms per `execute` on a
 * 100k-record history, which dominated append latency. This copy is made once and then kept
 * equal to the live model by repeating every record the live model accepts (`followed`; the live
 * model changes by nothing else, never by the clock). Whatever it cannot repeat exactly makes it
 * drop the copy (`discard`); the next check clones again, so the worst case is the old cost,
 * never a stale answer:
 *
 * - a check that throws may have changed the copy half-way (strategies mutate in place);
 * - a passed check leaves the copy one record ahead ("speculative"): if that very record is the
 *   next one accepted, the copy is equal to the live model again; any other record first (a lost
 *   race) or a failed publish drops it;
 * - a record the live model rejected may have changed it half-way: the owner calls `discard`.
 *
 * Cost: after the first action the client holds the model twice, and every accepted record is
 * executed twice (a few µs). The first action after start still pays one clone.
 *
 * Restored from a snapshot that is read on demand (modelCodec.ts), the live model may not be read
 * yet: cloning it would read all of it. Then the owner hands over a `fork` (the same snapshot,
 * restored once more, as lazily) with `rebase`: the first check builds the copy from a fork plus
 * the records the live model accepted since (kept while the fork is usable, up to
 * `MAX_FORK_RECORDS`), reading only what those records and the checked one reach. A check that
 * throws forks again; whatever the copy cannot repeat drops the fork too (`discard`).
 *
 * A record's "now" (`RecordContext`) reaches only fields no rule reads (a tracker's planned
 * duration, a new user's last date), so a check at the writer's instant and the live model's
 * application at the arrival instant give the same verdict.
 */
export interface CheckModel {
  /**
   * Runs `record` on the copy (cloning the live model first when there is none). Throws what the
   * strategy throws. `key` identifies the record when it comes back from the log (its plain line).
   */
  check(record: StrategyRecord, key: string, ctx: RecordContext): void;
  /** The live model has just executed `record` successfully with `ctx`; `key` is its plain line. */
  followed(record: StrategyRecord, key: string, ctx: RecordContext): void;
  /** The live model changed in a way the copy does not repeat. */
  discard(): void;
  /**
   * The live model was just replaced by a restored snapshot; `fork`, if given, restores that
   * snapshot again (an independent model), to build the copy from instead of cloning.
   */
  rebase(fork?: () => HistoryState): void;
}

/** Past this many records accepted since the snapshot, a copy is cloned instead of forked and caught up. */
export const MAX_FORK_RECORDS = 20_000;

export function createCheckModel(live: HistoryState): CheckModel {
  let copy: HistoryState | null = null;
  /** Key of the record the copy is ahead by, if any. */
  let ahead: string | null = null;
  /** The restored snapshot the live model started from, and the records it accepted since. */
  let fork: (() => HistoryState) | null = null;
  let since: Array<[StrategyRecord, RecordContext]> = [];

  /** Drops the copy; the fork stays usable (the live model is still the snapshot plus `since`). */
  const dropCopy = (): void => {
    copy = null;
    ahead = null;
  };
  const discard = (): void => {
    dropCopy();
    fork = null;
    since = [];
  };
  const makeCopy = (): HistoryState => {
    if (fork === null) return { ...live, tenant: cloneTenant(live.tenant), skipped: [] };
    const c: HistoryState = { ...fork(), skipped: [] };
    for (const [record, ctx] of since) executeRecord(c, record, ctx);
    return c;
  };

  return {
    check(record, key, ctx) {
      if (ahead !== null) dropCopy(); // the last checked record never came back (publish failed)
      copy ??= makeCopy();
      try {
        executeRecord(copy, record, ctx);
      } catch (err) {
        dropCopy();
        throw err;
      }
      ahead = key;
    },
    followed(record, key, ctx) {
      if (fork !== null) {
        if (since.length < MAX_FORK_RECORDS) since.push([record, ctx]);
        else {
          fork = null;
          since = [];
        }
      }
      if (copy === null) return;
      if (ahead !== null) {
        if (ahead === key) ahead = null;
        else dropCopy();
        return;
      }
      try {
        executeRecord(copy, record, ctx);
      } catch {
        discard(); // cannot happen while the copy equals the live model; never trust it then
      }
    },
    discard,
    rebase(f) {
      discard();
      fork = f ?? null;
    },
  };
}
