import type { TransportEntry } from '../../core/transport';
import type { ArchiveRow } from './stanza';

/**
 * Turns archive rows, in archive order, into transport entries: one entry per record, each
 * delivered once, with a position every reader computes the same way.
 *
 * Two effects make the raw archive differ from the history:
 * - **Twins.** Prosody (mod_mam 0.12) archives a message to self twice, once as sent and once as
 *   received, back to back (both in the processing of one stanza). The live copy every resource
 *   gets carries the id of the second. So a record is held until the next row is seen: if that row
 *   is its twin (same record id), the record's position is the twin's archive id. A server that
 *   archives once simply never produces the twin, and the record is released by the next row or
 *   by the end of the archive.
 * - **Re-sent duplicates.** A publish whose confirmation was lost in a disconnect is sent again
 *   (at-least-once). The copy is dropped when its id was delivered recently (`window` ids).
 *
 * Rows that are not records (someone chatting with the account) are skipped.
 */
export interface RowMerger {
  /** Feeds the next row; returns the entries it released, in order. */
  push(row: ArchiveRow): TransportEntry[];
  /** The archive end was reached: releases the held record, if any. */
  flush(): TransportEntry[];
}

export function createRowMerger(window: number): RowMerger {
  let held: { line: string; id: string; position: string } | null = null;
  const recent = new Set<string>();
  const remember = (id: string): void => {
    recent.add(id);
    if (recent.size > window) {
      const oldest = recent.values().next();
      if (!oldest.done) recent.delete(oldest.value);
    }
  };
  const release = (): TransportEntry[] => {
    if (held === null) return [];
    const entry: TransportEntry = { line: held.line, position: held.position, id: held.id };
    held = null;
    return [entry];
  };
  return {
    push(row) {
      const record = row.record;
      if (record === null) return release();
      if (held !== null && held.id === record.id) {
        held.position = row.archiveId;
        return release();
      }
      const out = release();
      if (recent.has(record.id)) return out;
      remember(record.id);
      held = { line: record.line, id: record.id, position: row.archiveId };
      return out;
    },
    flush: release,
  };
}
