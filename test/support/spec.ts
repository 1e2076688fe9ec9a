import type { Micros } from '../../src/core/clock';
import { DomainError, FkError, type Refusal } from '../../src/core/errors';
import type { StrategyName, StrategyRecord } from '../../src/core/engine/records';
import { applyLine, createHistoryState } from '../../src/core/engine/engine';
import { sealAtEnd, type ReplayState } from '../../src/core/engine/replay';
import { formatRecord } from '../../src/core/engine/serializer';
import { parseInstant } from '../../src/core/engine/time';

/**
 * given/when/then over the strategies (STYLE §9, after emmett's DeciderSpecification):
 *
 *   given(['CreateBacklog', 'b1', 'Today'], …).when('StartTimer', 'w1', '1500', '300').thenThrows('FK_ILLEGAL_STATE')
 *
 * Records are stamped one minute apart from 2026-06-10 10:00 UTC unless `at('…')` moves the clock.
 * Each one goes through the record engine as a stored line (`strict`), applied at its own time.
 */
export const USER = 'alice@example.org';
export const T0 = parseInstant('2026-06-10T10:00:00Z') as Micros;
export const MIN = 60_000_000;

export type Step = readonly [StrategyName, ...string[]] | { readonly at: string };

export function at(iso: string): Step {
  return { at: iso };
}

export interface Spec {
  when(name: StrategyName, ...params: string[]): Then;
  /** The state after the given steps, sealed at `now` (default: one minute after the last step). */
  state(now?: string): ReplayState;
}

export interface Then {
  then(check: (state: ReplayState, now: Micros) => void, now?: string): void;
  thenThrows(code: FkError['code'], pythonName?: string): void;
  /** The strategy refuses by `refusal` (its rule, entity and uid, as `DomainError.refusal` gives them). */
  thenRefuses(refusal: Refusal): void;
}

export function given(...steps: Step[]): Spec {
  const state = createHistoryState(T0);
  let t = T0;
  let seq = 0;
  const run = (name: StrategyName, params: string[], user = USER): void => {
    t += MIN;
    const record: StrategyRecord = { seq: ++seq, when: t, user, name, params };
    const out = applyLine(state, formatRecord(record), { policy: 'strict' }, { now: t });
    if (out.kind === 'halted') throw out.error;
  };
  run('CreateUser', [USER, 'Alice'], 'admin@local.host');
  for (const s of steps) {
    if (Array.isArray(s)) run(s[0] as StrategyName, s.slice(1) as string[]);
    else t = (parseInstant((s as { at: string }).at) as Micros) - MIN;
  }
  const sealedAt = (now?: string): Micros => (now === undefined ? t + MIN : (parseInstant(now) as Micros));
  return {
    state: (now) => {
      const n = sealedAt(now);
      executeSeal(state, n);
      return state;
    },
    when: (name, ...params) => ({
      then: (check, now) => {
        run(name, params);
        const n = sealedAt(now);
        executeSeal(state, n);
        check(state, n);
      },
      thenThrows: (code, pythonName) => {
        const thrown = caught(() => run(name, params));
        expect(thrown).toBeInstanceOf(FkError);
        expect((thrown as FkError).code).toBe(code);
        if (pythonName !== undefined) expect((thrown as DomainError).pythonName).toBe(pythonName);
      },
      thenRefuses: (refusal) => {
        const thrown = caught(() => run(name, params));
        expect(thrown).toBeInstanceOf(DomainError);
        expect((thrown as DomainError).refusal).toEqual(refusal);
      },
    }),
  };
}

function caught(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return null;
}

function executeSeal(state: ReplayState, now: Micros): void {
  sealAtEnd(state, now);
}
