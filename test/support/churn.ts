import type { StrategyName, StrategyRecord } from '../../src/core/engine/records';
import { replay } from '../../src/core/engine/replay';
import { formatRecord, parseLine } from '../../src/core/engine/serializer';

/**
 * Adds the kind of churn people produce to a generated history (see generate.ts), keeping it
 * valid: scratch workitems and backlogs created and deleted, names changed and changed back,
 * workitems completed by mistake and restored, pomodoros added and removed, categories set and
 * unset, workitems reordered and put back. `generateHistory` alone has almost nothing a
 * compaction may drop (every record leaves a trace in the final state); this gives the
 * compaction tests and benchmark something realistic to remove. Deterministic for a seed.
 */
export function addChurn(lines: readonly string[], seed = 7): string[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const out: Array<Omit<StrategyRecord, 'seq'>> = [];
  let scratch = 0;
  const perBacklog = new Map<string, number>();
  lines.forEach((line, i) => {
    const parsed = parseLine(line, i + 1);
    if (parsed.kind !== 'record') return;
    const r = parsed.record;
    out.push(r);
    let at = r.when;
    const add = (name: StrategyName, ...params: string[]): void => {
      at += 1000; // 1 ms apart: the generator leaves at least 10 ms between its own records
      out.push({ when: at, user: r.user, name, params });
    };
    const [p0 = '', p1 = '', p2 = ''] = r.params;
    if (r.name === 'CreateBacklog') {
      perBacklog.set(p0, 0);
      if (rnd() < 0.5) {
        const w = `scratch-w-${++scratch}`;
        add('CreateWorkitem', w, p0, `Scratch idea #scratch${scratch}`);
        add('AddPomodoro', w, '1', 'normal');
        add('RenameWorkitem', w, `Scratch idea #scratch${scratch} v2`);
        add('DeleteWorkitem', w, '');
      }
      if (rnd() < 0.3) {
        const b = `scratch-b-${++scratch}`;
        add('CreateBacklog', b, 'Scratch');
        add('CreateWorkitem', `scratch-w-${scratch}`, b, 'Try #thing');
        add('RenameBacklog', b, 'Scratch 2');
        add('DeleteBacklog', b, '');
      }
    } else if (r.name === 'CreateWorkitem') {
      const count = (perBacklog.get(p1) ?? 0) + 1;
      perBacklog.set(p1, count);
      if (rnd() < 0.3) {
        add('RenameWorkitem', p0, `Draft: ${p2}`);
        add('RenameWorkitem', p0, p2);
      }
      if (rnd() < 0.3) {
        add('CompleteWorkitem', p0, 'canceled');
        add('RestoreWorkitem', p0, '');
      }
      if (rnd() < 0.3) {
        add('UpdateWorkitemCategories', p0, '', '#wg_MSW_S');
        add('UpdateWorkitemCategories', p0, '#wg_MSW_S', '');
      }
      if (count > 1 && rnd() < 0.2) {
        add('ReorderWorkitem', p0, '0');
        add('ReorderWorkitem', p0, String(count));
      }
    } else if (r.name === 'AddPomodoro' && p2 === 'normal' && rnd() < 0.3) {
      add('AddPomodoro', p0, '2', 'normal');
      add('RemovePomodoro', p0, '2');
    }
  });
  const result = out.map((r, i) => formatRecord({ ...r, seq: i + 1 }));
  replay(result, { now: (out[out.length - 1]?.when ?? 0) + 86_400_000_000 });
  return result;
}
