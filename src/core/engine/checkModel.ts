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
}

export function createCheckModel(live: HistoryState): CheckModel {
  let copy: HistoryState | null = null;
  /** Key of the record the copy is ahead by, if any. */
  let ahead: string | null = null;

  const discard = (): void => {
    copy = null;
    ahead = null;
  };

  return {
    check(record, key, ctx) {
      if (ahead !== null) discard(); // the last checked record never came back (publish failed)
      copy ??= { ...live, tenant: cloneTenant(live.tenant), skipped: [] };
      try {
        executeRecord(copy, record, ctx);
      } catch (err) {
        discard();
        throw err;
      }
      ahead = key;
    },
    followed(record, key, ctx) {
      if (copy === null) return;
      if (ahead !== null) {
        if (ahead === key) ahead = null;
        else discard();
        return;
      }
      try {
        executeRecord(copy, record, ctx);
      } catch {
        discard(); // cannot happen while the copy equals the live model; never trust it then
      }
    },
    discard,
  };
}
