import { performance } from 'node:perf_hooks';
import { compactHistory } from '../src/tools/compact';
import type { StrategyRecord } from '../src/core/engine/records';
import { replay } from '../src/core/engine/replay';
import { parseLine } from '../src/core/engine/serializer';
import { computeStats } from '../src/tools/stats';
import { addChurn } from '../test/support/churn';
import { generateHistory } from '../test/support/generate';

const NOW = Date.UTC(2030, 0, 1) * 1000;
const USER = 'user@local.host';

function records(lines: readonly string[]): StrategyRecord[] {
  return lines.flatMap((l, i) => {
    const p = parseLine(l, i + 1);
    return p.kind === 'record' ? [p.record] : [];
  });
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * History tools on 30k-line histories: compaction time and output/input ratio of a plain
 * generated history (which has almost nothing to drop: every record leaves a trace) and of the
 * same kind of history with realistic churn (see churn.ts); time of `computeStats`.
 * Prints nothing; the bench runner aggregates.
 */
export async function runToolsBench(): Promise<Array<{ name: string; value: number; unit: string }>> {
  const out: Array<{ name: string; value: number; unit: string }> = [];
  const plain = records(generateHistory(30_000));
  let base = generateHistory(18_800);
  let churned = addChurn(base);
  while (churned.length < 30_000) {
    base = generateHistory(base.length + 200);
    churned = addChurn(base);
  }
  const churn = records(churned.slice(0, 30_000));
  for (const [name, recs] of [
    ['generated_30k', plain],
    ['churned_30k', churn],
  ] as const) {
    const t = performance.now();
    const r = compactHistory(recs, { now: NOW });
    out.push(
      { name: `tools.compact.${name}.time`, value: Math.round(performance.now() - t), unit: 'ms' },
      {
        name: `tools.compact.${name}.ratio`,
        value: round(r.outputRecords / r.inputRecords, 3),
        unit: 'output/input lines',
      },
      { name: `tools.compact.${name}.verifications`, value: r.verifications, unit: 'replays' },
    );
  }
  const state = replay(generateHistory(30_000), { now: NOW });
  const t = performance.now();
  const stats = computeStats(state.tenant, { user: USER });
  out.push({ name: 'tools.stats.generated_30k.time', value: round(performance.now() - t, 1), unit: 'ms' });
  out.push({ name: 'tools.stats.generated_30k.days', value: stats.days.length, unit: 'days' });
  return out;
}
