import { performance } from 'node:perf_hooks';
import type { Client } from '../src/core/client';
import type { StrategyRecord } from '../src/core/engine/records';

/**
 * Append and client-to-client latency, shared by the broker benches: `writer.execute` until the
 * writer sees its record accepted, and until `reader` (whose `onRecord` is routed to the returned
 * hook) applies it. Each sample creates one workitem in `backlog`.
 */
export function createLatencyProbe(): {
  readonly onRecord: (r: StrategyRecord) => void;
  measure(writer: Client, backlog: string, samples: number): Promise<{ append: number[]; e2e: number[] }>;
} {
  let seen: ((r: StrategyRecord) => void) | null = null;
  return {
    onRecord: (r) => seen?.(r),
    async measure(writer, backlog, samples) {
      const append: number[] = [];
      const e2e: number[] = [];
      for (let i = 0; i < samples; i++) {
        const uid = `bench-${i}`;
        const arrived = new Promise<number>((resolve) => {
          seen = (r) => {
            if (r.params[0] === uid) resolve(performance.now());
          };
        });
        const t0 = performance.now();
        await writer.execute('CreateWorkitem', [uid, backlog, `bench item ${i}`]);
        append.push(performance.now() - t0);
        e2e.push((await arrived) - t0);
      }
      seen = null;
      return { append, e2e };
    },
  };
}
