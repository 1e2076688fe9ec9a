import { canonicalState } from '../core/engine/canonical';
import type { Micros } from '../core/clock';
import { COMPACT_RULES, type CompactGroup, type CompactRule } from './compactGroups';
import { analyseHistory } from './compactRules';
import { DomainError, FkError } from '../core/errors';
import { renumbered, type StrategyRecord } from '../core/engine/records';
import {
  createReplayState,
  executeRecord,
  replay,
  sealAtEnd,
  type ReplayOptions,
  type ReplayState,
} from '../core/engine/replay';
import { formatRecord } from '../core/engine/serializer';
import { diffStates, type KeyDiff } from './stateDiff';

/**
 * History compaction (design point 7: the history is immutable, but a new, shorter one may
 * replace it when it yields exactly the same final state).
 *
 * 1. `analyseHistory` proposes groups of records to drop (whole deleted users, backlogs,
 *    workitems and categories; superseded renames, reorders and moves; pomodoros added then
 *    removed; completions undone by a restore; categories added then removed; stops of an idle
 *    timer).
 * 2. A search drops all proposals of a tier at once and replays. When the canonical state
 *    differs (or the replay fails), the proposals that can explain the difference are withdrawn
 *    (by state key and time, see stateDiff.ts), their finer children are offered instead, and it
 *    replays again; when nothing explains it, it bisects. The replay budget is bounded; what is
 *    not verified in time is kept.
 * 3. The result is renumbered from 1, serialized, replayed from its text at `now` and at a far
 *    later instant, and compared with the original: a compaction that differs is never returned
 *    (the original comes back instead).
 */

export interface CompactOptions {
  /** The instant the states are compared at (what `fk state --now` would use). */
  readonly now: Micros;
  /** Default pomodoro durations in seconds, as for `replay`. @default 1500 / 300 */
  readonly defaultWork?: number;
  readonly defaultRest?: number;
  /** Most verification replays the search may spend (each is a full replay). @default 40 */
  readonly maxVerifications?: number;
  /** Called as the work advances (no I/O here: the CLI draws a progress bar from it). */
  readonly onProgress?: (p: CompactProgress) => void;
}

export interface CompactProgress {
  readonly phase: 'analyse' | 'search' | 'verify';
  readonly done: number;
  readonly total: number;
}

export interface CompactRuleStats {
  /** Proposals of this rule that were tried (children included). */
  readonly proposed: number;
  /** Proposals that survived verification. */
  readonly accepted: number;
  /** Records they removed. */
  readonly removed: number;
}

export interface CompactResult {
  /** The compacted history, renumbered 1..n, original timestamps and users. */
  readonly records: readonly StrategyRecord[];
  readonly inputRecords: number;
  readonly outputRecords: number;
  /** `inputRecords - outputRecords`. */
  readonly saved: number;
  readonly rules: Readonly<Record<CompactRule, CompactRuleStats>>;
  readonly verifications: number;
}

export const DEFAULT_MAX_VERIFICATIONS = 40;
/** The second instant of the final check: ten years later, every pending timer has rung. */
const FAR_FUTURE_US = 10 * 366 * 86_400 * 1_000_000;

type Verdict =
  { readonly ok: true } | { readonly ok: false; readonly failedAt: number | null; readonly diff: Map<string, KeyDiff> };

/** A replay's canonical state without `last_seq` (which compaction shrinks by design), as an object and as text. */
interface Final {
  readonly state: unknown;
  readonly text: string;
}

function stateOf(s: ReplayState, now: Micros): Final {
  const c = canonicalState(s, 'strict', now) as { last_seq?: unknown };
  delete c.last_seq;
  // Same construction code on both sides, so equal states serialize identically (no key sorting needed).
  return { state: c, text: JSON.stringify(c) };
}

/** Replays records (already sequenced) and returns the final state, or the index of the record that failed. */
function finalState(records: readonly StrategyRecord[], opts: ReplayOptions): Final | { readonly failedAt: number } {
  const s = createReplayState(opts.now);
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as StrategyRecord;
    try {
      executeRecord(s, r, opts);
    } catch {
      return { failedAt: i };
    }
    s.lastSeq = i + 1;
    s.started = true;
    s.lastUser = r.user;
  }
  sealAtEnd(s, opts.now);
  return stateOf(s, opts.now);
}

function applyEdits(
  records: readonly StrategyRecord[],
  groups: Iterable<CompactGroup>,
): { out: StrategyRecord[]; from: number[] } {
  const edits = new Map<number, StrategyRecord | null>();
  for (const g of groups) for (const [i, e] of g.edits) if (!edits.has(i) || e === null) edits.set(i, e);
  const out: StrategyRecord[] = [];
  const from: number[] = [];
  records.forEach((r, i) => {
    const e = edits.get(i);
    if (e === null) return;
    out.push(e ?? r);
    from.push(i);
  });
  return { out, from };
}

/**
 * Returns a shorter history with the same final canonical state (all but `last_seq`), verified
 * by replay. The input must be a valid history (strict replay); it is never modified.
 * Throws `DomainError` naming the record when the input does not replay.
 *
 * @example
 * const { records, saved } = compactHistory(parsedRecords, { now: clock.now() });
 */
export function compactHistory(records: readonly StrategyRecord[], opts: CompactOptions): CompactResult {
  const ropts: ReplayOptions = {
    now: opts.now,
    defaultWork: opts.defaultWork ?? 1500,
    defaultRest: opts.defaultRest ?? 300,
  };
  const budget = opts.maxVerifications ?? DEFAULT_MAX_VERIFICATIONS;
  const progress = opts.onProgress ?? (() => undefined);
  const rules = Object.fromEntries(COMPACT_RULES.map((r) => [r, { proposed: 0, accepted: 0, removed: 0 }])) as Record<
    CompactRule,
    { proposed: number; accepted: number; removed: number }
  >;
  progress({ phase: 'analyse', done: 0, total: 1 });
  let analysis;
  try {
    analysis = analyseHistory(records, ropts);
  } catch (err) {
    const f = finalState(records, ropts);
    const at = 'failedAt' in f ? f.failedAt : -1;
    const r = records[at];
    throw new DomainError(
      'FK_HISTORY_INVALID',
      `record ${at + 1}${r ? ` (seq ${r.seq}, ${r.name})` : ''} does not replay: ${(err as Error).message}`,
      {
        cause: err,
        seq: r?.seq ?? null,
      },
    );
  }
  progress({ phase: 'analyse', done: 1, total: 1 });
  const original = finalState(records, ropts) as Final;
  const last = records.length - 1;
  const usable = (g: CompactGroup): CompactGroup | null => {
    if (g.edits.has(last) || g.edits.size === 0) return null;
    return { ...g, children: g.children.map(usable).filter((c): c is CompactGroup => c !== null) };
  };
  const accepted: CompactGroup[] = [];
  let verifications = 0;

  const verify = (trial: Iterable<CompactGroup>): Verdict => {
    verifications++;
    progress({ phase: 'search', done: verifications, total: budget });
    const { out, from } = applyEdits(records, [...accepted, ...trial]);
    const f = finalState(out, ropts);
    if ('failedAt' in f) return { ok: false, failedAt: from[f.failedAt] ?? null, diff: new Map() };
    return f.text === original.text
      ? { ok: true }
      : { ok: false, failedAt: null, diff: diffStates(original.state, f.state) };
  };

  const suspects = (trial: ReadonlySet<CompactGroup>, v: Verdict & { ok: false }): Set<CompactGroup> => {
    const out = new Set<CompactGroup>();
    if (v.failedAt !== null) {
      const subjects = analysis.subjects[v.failedAt] ?? [];
      for (const g of trial) if (subjects.some((k) => g.keys.has(k))) out.add(g);
      return out;
    }
    for (const [key, d] of v.diff) {
      const floor =
        d.lmOnly && d.orig !== null && d.cand !== null && d.cand < d.orig ? d.cand : Number.NEGATIVE_INFINITY;
      for (const g of trial) if (g.keys.has(key) && g.maxEffect >= floor) out.add(g);
    }
    return out;
  };

  const accept = (gs: Iterable<CompactGroup>): void => {
    for (const g of gs) accepted.push(g);
  };

  /** Binary search for the proposals that verify, one half at a time (the classic fallback). */
  const bisect = (groups: CompactGroup[]): void => {
    const stack: CompactGroup[][] = [groups];
    while (stack.length > 0 && verifications < budget) {
      const batch = stack.pop() as CompactGroup[];
      if (verify(batch).ok) accept(batch);
      else if (batch.length > 1) {
        const mid = batch.length >> 1;
        stack.push(batch.slice(mid), batch.slice(0, mid));
      } else {
        const kids = (batch[0] as CompactGroup).children;
        kids.forEach((k) => rules[k.rule].proposed++);
        if (kids.length > 0) stack.push([...kids]);
      }
    }
  };

  const search = (tier: readonly CompactGroup[]): void => {
    const removed = new Set<number>();
    for (const g of accepted) for (const i of g.edits.keys()) removed.add(i);
    const trial = new Set<CompactGroup>();
    for (const g of tier) {
      const u = usable(g);
      if (u && ![...u.edits.keys()].some((i) => removed.has(i))) {
        trial.add(u);
        rules[u.rule].proposed++;
      }
    }
    // Withdrawn proposals without finer children: some of them may still pass on their own.
    const leaves: CompactGroup[] = [];
    while (trial.size > 0 && verifications < budget) {
      const v = verify(trial);
      if (v.ok) {
        accept(trial);
        break;
      }
      const withdraw = suspects(trial, v);
      if (withdraw.size === 0 || withdraw.size === trial.size) {
        bisect([...trial]);
        break;
      }
      for (const g of withdraw) {
        trial.delete(g);
        if (g.children.length === 0) leaves.push(g);
        for (const c of g.children) {
          trial.add(c);
          rules[c.rule].proposed++;
        }
      }
    }
    if (leaves.length > 0) bisect(leaves);
  };

  search(analysis.coarse);
  search(analysis.fine);

  const compacted = renumbered(applyEdits(records, accepted).out);
  progress({ phase: 'verify', done: 0, total: 2 });
  if (!sameFinalState(original, records, compacted, ropts)) {
    return {
      records: renumbered(records),
      inputRecords: records.length,
      outputRecords: records.length,
      saved: 0,
      rules: zero(rules),
      verifications,
    };
  }
  progress({ phase: 'verify', done: 2, total: 2 });
  const removedBy = new Map<number, CompactRule>();
  for (const g of accepted) {
    rules[g.rule].accepted++;
    for (const [i, e] of g.edits) if (e === null && !removedBy.has(i)) removedBy.set(i, g.rule);
  }
  for (const rule of removedBy.values()) rules[rule].removed++;
  return {
    records: compacted,
    inputRecords: records.length,
    outputRecords: compacted.length,
    saved: records.length - compacted.length,
    rules,
    verifications,
  };
}

function zero(rules: Record<CompactRule, CompactRuleStats>): Record<CompactRule, CompactRuleStats> {
  return Object.fromEntries(Object.entries(rules).map(([k, v]) => [k, { ...v, accepted: 0, removed: 0 }])) as Record<
    CompactRule,
    CompactRuleStats
  >;
}

/**
 * The final, independent check: the compacted history is serialized and replayed from its text
 * (strict, with sequence checks) at `now` and ten years later, and compared with the original
 * (without `last_seq`).
 */
function sameFinalState(
  original: Final,
  records: readonly StrategyRecord[],
  compacted: readonly StrategyRecord[],
  opts: ReplayOptions,
): boolean {
  const far = { ...opts, now: opts.now + FAR_FUTURE_US };
  const fromText = (o: ReplayOptions): Final | null => {
    try {
      return stateOf(replay(compacted.map(formatRecord), { ...o, mode: 'strict' }), o.now);
    } catch (err) {
      if (err instanceof FkError) return null;
      throw err;
    }
  };
  const farOriginal = finalState(records, far);
  return fromText(opts)?.text === original.text && 'text' in farOriginal && fromText(far)?.text === farOriginal.text;
}

/**
 * True when two histories replay (strictly, from their text) to the same canonical state at
 * `opts.now`, ignoring `last_seq`. For tests and tools that compare histories.
 */
export function sameHistoryState(
  a: readonly StrategyRecord[],
  b: readonly StrategyRecord[],
  opts: ReplayOptions,
): boolean {
  const run = (rs: readonly StrategyRecord[]): string | null => {
    try {
      return stateOf(replay(rs.map(formatRecord), { ...opts, mode: 'strict' }), opts.now).text;
    } catch (err) {
      if (err instanceof FkError) return null;
      throw err;
    }
  };
  const sa = run(a);
  return sa !== null && sa === run(b);
}
