/** One benchmark figure, as `npm run bench` prints it: `name: value unit`. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

/** The q-quantile (0..1) of samples, nearest rank below; NaN for no samples. */
export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}
