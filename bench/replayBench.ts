import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHistory } from '../test/support/generate';
import type { BenchResult } from './results';

export type { BenchResult } from './results';

/**
 * The engine alone (no CLI start-up): replay throughput and peak memory of parse + replay +
 * canonical dump on generated histories of 3k, 30k and 100k lines, each in a fresh worker process
 * so that peak RSS is its own. The whole `fk state` process next to Flowkeeper's core, like for
 * like, is in processBench.ts.
 */
export async function runReplayBench(sizes: readonly number[] = [3_000, 30_000, 100_000]): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fk-bench-'));
  const out: BenchResult[] = [];
  try {
    for (const n of sizes) {
      const file = join(dir, `h${n}.txt`);
      writeFileSync(file, `${generateHistory(n).join('\n')}\n`);
      const r = spawnSync(process.execPath, [join(__dirname, 'replayWorker.js'), file], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`replay worker failed: ${r.stderr}`);
      const m = JSON.parse(r.stdout) as {
        replayMs: number;
        totalMs: number;
        replayRssMb: number;
        maxRssMb: number;
        heapMb: number;
      };
      out.push({ name: `in-process replay ${n} lines: time (read+parse+replay)`, value: m.replayMs, unit: 'ms' });
      out.push({
        name: `in-process replay ${n} lines: throughput`,
        value: Math.round((n / m.replayMs) * 1000),
        unit: 'events/s',
      });
      out.push({
        name: `in-process replay ${n} lines: replay + canonical JSON (streamed, as fk state)`,
        value: m.totalMs,
        unit: 'ms',
      });
      out.push({ name: `in-process replay ${n} lines: peak RSS of the replay`, value: m.replayRssMb, unit: 'MB' });
      out.push({
        name: `in-process replay ${n} lines: peak RSS incl. the canonical JSON`,
        value: m.maxRssMb,
        unit: 'MB',
      });
      out.push({ name: `in-process replay ${n} lines: heap after replay`, value: m.heapMb, unit: 'MB' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
