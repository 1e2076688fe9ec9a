/** One benchmark figure, as `npm run bench` prints it: `name: value unit`. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Set on a like-for-like comparison: it also goes into the summary table. */
  readonly comparison?: Comparison;
}

/**
 * fk next to a baseline measured in the same run, A/B interleaved: `ratio` is the median of the
 * per-pair ratios fk / baseline (so a load spike hits both sides of a pair), not a ratio of
 * best-ofs picked separately.
 */
export interface Comparison {
  readonly what: string;
  readonly fk: string;
  readonly baseline: string;
  readonly ratio: number;
  /** The target, e.g. `≤ 1.3` or `≥ 0.5`; omitted when there is none. */
  readonly goal?: Goal;
}

export interface Goal {
  readonly op: '<=' | '>=';
  readonly value: number;
}

/** The q-quantile (0..1) of samples, nearest rank below; NaN for no samples. */
export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export const median = (samples: readonly number[]): number => percentile(samples, 0.5);

/** Rounds to `digits` decimals (2 by default). */
export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Runs `a` and `b` alternately `pairs` times (ABBA order, so neither side always goes first),
 * and returns both sample lists plus the median of the per-pair ratios a / b of `key`.
 */
export async function paired<T>(
  pairs: number,
  a: () => Promise<T>,
  b: () => Promise<T>,
  key: (t: T) => number,
): Promise<{ a: T[]; b: T[]; ratio: number }> {
  const as: T[] = [];
  const bs: T[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    let x: T;
    let y: T;
    if (i % 2 === 0) {
      x = await a();
      y = await b();
    } else {
      y = await b();
      x = await a();
    }
    as.push(x);
    bs.push(y);
    ratios.push(key(x) / key(y));
  }
  return { a: as, b: bs, ratio: median(ratios) };
}

const met = (c: Comparison): string => {
  if (c.goal === undefined) return '';
  const ok = c.goal.op === '<=' ? c.ratio <= c.goal.value : c.ratio >= c.goal.value;
  return `${c.goal.op === '<=' ? '≤' : '≥'} ${c.goal.value} ${ok ? 'met' : 'NOT met'}`;
};

/** The comparisons as a Markdown table (the README's performance table is pasted from it). */
export function comparisonTable(rows: readonly Comparison[]): string {
  const lines = ['| what | fk | baseline | fk / baseline | goal |', '|---|---|---|---|---|'];
  for (const c of rows) lines.push(`| ${c.what} | ${c.fk} | ${c.baseline} | ${c.ratio} | ${met(c)} |`);
  return lines.join('\n');
}
