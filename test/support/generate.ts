import { formatRecord } from '../../src/core/engine/serializer';
import type { StrategyName, StrategyRecord } from '../../src/core/engine/records';

/**
 * Deterministic generator of realistic, valid Flowkeeper histories of any length: days of
 * backlogs, workitems with #tags and categories, pomodoros run to completion, voided, interrupted,
 * long breaks, trackers, renames, moves, completions. Used by the benchmark and by tests.
 */
export function generateHistory(lines: number, seed = 42, user = 'user@local.host'): string[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const out: string[] = [];
  let seq = 0;
  let t = Date.UTC(2026, 0, 5, 9) * 1000;
  const emit = (who: string, name: StrategyName, ...params: string[]): void => {
    out.push(formatRecord({ seq: ++seq, when: t, user: who, name, params } as StrategyRecord));
  };
  const step = (sec: number): void => {
    t += Math.round(sec * 1_000_000);
  };
  emit('admin@local.host', 'CreateUser', user, 'Local User');
  const tags = ['#Alpha', '#Beta', '#Gamma', '#Delta', '#Omega'];
  const verbs = ['Explore', 'Fix', 'Write', 'Check', 'Plan', 'Review'];
  const nouns = ['code', 'design', 'email', 'tool', 'bug', 'idea'];
  const cats = ['#wg_Pareto_20', '#wg_Pareto_80', '#wg_MSW_M', '#wg_ABCDE_A'];
  let day = 0;
  let n = 0;
  const uid = (): string => {
    n++;
    const h = (n * 2654435761) >>> 0;
    return `${h.toString(16).padStart(8, '0')}-${(n & 0xffff).toString(16).padStart(4, '0')}-4000-8000-${n.toString(16).padStart(12, '0')}`;
  };
  let prevBacklog: string | null = null;
  while (out.length < lines) {
    day++;
    t = (Date.UTC(2026, 0, 5 + day, 9) + Math.floor(rnd() * 3600_000)) * 1000;
    const backlog = uid();
    emit(user, 'CreateBacklog', backlog, `Day ${day}`);
    const items: string[] = [];
    for (let i = 0; i < 6 && out.length < lines; i++) {
      step(20 + rnd() * 40);
      const w = uid();
      items.push(w);
      emit(user, 'CreateWorkitem', w, backlog, `${pick(verbs)} ${pick(nouns)} for ${pick(tags)}`);
      if (rnd() < 0.5) {
        step(5);
        emit(user, 'UpdateWorkitemCategories', w, '', pick(cats));
      }
      step(5);
      emit(user, 'AddPomodoro', w, String(1 + Math.floor(rnd() * 3)), 'normal');
    }
    for (const w of items) {
      if (out.length >= lines) break;
      const kind = rnd();
      step(60 + rnd() * 120);
      if (kind < 0.55) {
        emit(user, 'StartTimer', w, '1500', '300');
        if (rnd() < 0.3) {
          step(300 + rnd() * 600);
          emit(user, 'AddInterruption', w, 'An interruption', String(Math.floor(rnd() * 200)));
        }
        step(1800 + 5);
        if (rnd() < 0.2) emit(user, 'RenameWorkitem', w, `${pick(verbs)} ${pick(nouns)} for ${pick(tags)}`);
      } else if (kind < 0.7) {
        emit(user, 'StartTimer', w, '1500', '300');
        step(400 + rnd() * 600);
        emit(user, 'AddInterruption', w, 'Pomodoro voided', '');
        emit(user, 'StopTimer', '', '');
      } else if (kind < 0.8) {
        emit(user, 'StartTimer', w, '1500', '0');
        step(1500 + 300 + rnd() * 900);
        emit(user, 'StopTimer', '', '');
      } else {
        emit(user, 'AddPomodoro', w, '1', 'tracker');
        step(0.01);
        emit(user, 'StartTimer', w, '');
        step(300 + rnd() * 600);
        emit(user, 'StopTimer', '', '');
      }
      step(30);
      if (rnd() < 0.6) emit(user, 'CompleteWorkitem', w, 'finished');
      else if (prevBacklog !== null && rnd() < 0.3) emit(user, 'MoveWorkitem', w, prevBacklog);
    }
    prevBacklog = backlog;
  }
  return out.slice(0, lines);
}
