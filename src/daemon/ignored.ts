import type { HistoryState } from '../core/engine/engine';

/** How many recent ignored records `/status` lists (the counts stay exact). */
const RECENT = 20;

/**
 * Records a broker history's readers ignore, identically (issue 11.4): lost races, records a
 * rule rejects, and records that fail authentication (junk from someone without the key) or
 * cannot be read. Shown per session in `/status` and as `fk_daemon_records_ignored_total`; the
 * client logs each at warn.
 */
export interface IgnoredRecords {
  readonly counts: {
    readonly lostRaces: number;
    readonly rejected: number;
    readonly unauthentic: number;
    readonly unreadable: number;
  };
  /** The latest ones, oldest first: where and why, never the record's text (it may be junk or secret). */
  readonly recent: ReadonlyArray<{
    readonly line: number | null;
    readonly seq: number | null;
    readonly reason: string;
    readonly code: string;
  }>;
}

export const NONE_IGNORED: IgnoredRecords = {
  counts: { lostRaces: 0, rejected: 0, unauthentic: 0, unreadable: 0 },
  recent: [],
};

export function ignoredRecords(state: HistoryState | null | undefined): IgnoredRecords {
  if (state === null || state === undefined) return NONE_IGNORED;
  const recent = state.skipped
    .slice(-RECENT)
    .map((s) => ({ line: s.lineNumber, seq: s.seq, reason: s.reason ?? 'failed', code: s.error.code }));
  return { counts: { ...state.counts }, recent };
}
