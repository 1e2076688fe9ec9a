import type { Clock } from './clock';
import type { CheckModel } from './engine/checkModel';
import { applyLine, createHistoryState } from './engine/engine';
import type { EngineOptions, HistoryState, LineOutcome } from './engine/engine';
import type { StrategyRecord } from './engine/records';
import type { ReplayState } from './engine/replay';
import type { FkError } from './errors';
import type { Logger } from './logger';
import { lostRace, type Outcome, type Publications } from './publications';
import type { TransportEntry } from './transport';

/** What a client's log applier works on and reports to (see `createLogApplier`). */
export interface LogApplierDeps {
  /** The live model, changed in place. */
  readonly state: HistoryState;
  readonly engine: EngineOptions;
  readonly clock: Clock;
  readonly log: Logger;
  /** The copy `execute` checks against, kept in step with `state`. */
  readonly checks: CheckModel;
  /** The client's actions in flight, settled by the entries that come back. */
  readonly actions: Publications;
  /** The caller's id source, if it gave one (else the engine's own counter ids). */
  readonly newId: (() => string) | undefined;
  readonly onRecord: ((record: StrategyRecord, state: ReplayState) => void) | undefined;
  readonly onHistoryError: ((error: FkError) => void) | undefined;
}

/**
 * @internal
 * The client's reading side: each log entry goes through the record engine into the live model,
 * and its outcome is logged, reported (`onRecord`, `onHistoryError`) and handed to the action
 * that published it, if it is one of ours.
 */
export interface LogApplier {
  /** Applies one log entry through the record engine, at the current instant. */
  apply(entry: TransportEntry): void;
  /** Back to an empty model (a replica that proved unusable), to read the log again from the start. */
  reset(): void;
}

export function createLogApplier(deps: LogApplierDeps): LogApplier {
  const { state, engine, clock, log, checks, actions } = deps;
  /** Unauthentic records already logged (those decided junk only later are logged together). */
  let reported = 0;

  const settle = (entry: TransportEntry, plain: string | null, o: Outcome): void => actions.settle(entry.id, plain, o);

  function logIgnored(reason: string, seq: number | null, line: number | null, code: string): void {
    const count = reason === 'unauthentic' ? state.counts.unauthentic - reported : 1;
    if (reason === 'unauthentic') reported = state.counts.unauthentic;
    // Never the message: it may quote the record.
    log.warn({ seq, line, reason, code, count }, 'record ignored');
  }

  function apply(entry: TransportEntry): void {
    const wasValid = state.error === null;
    // Objects a record creates (pomodoros, interruptions) get the engine's own counter ids: they
    // are not part of the history, and replaying needs no random ids (nor node:crypto).
    const ctx = deps.newId ? { now: clock.now(), newId: deps.newId } : { now: clock.now() };
    const out: LineOutcome = applyLine(state, entry.line, engine, ctx);
    if (wasValid && state.error !== null) deps.onHistoryError?.(state.error);
    switch (out.kind) {
      case 'blank':
        return;
      case 'applied':
        if (state.counts.unauthentic > reported) logIgnored('unauthentic', null, null, 'FK_DECRYPT_FAILED');
        checks.followed(out.record, out.plain, ctx);
        log.debug({ seq: out.record.seq, name: out.record.name }, 'strategy applied');
        settle(entry, out.plain, { accepted: true });
        actions.taken(out.record.seq, out.plain);
        deps.onRecord?.(out.record, state);
        return;
      case 'lost-race':
        log.debug({ seq: out.record.seq }, 'record lost a race, ignored');
        settle(entry, out.plain, { accepted: false, error: lostRace(out.record.seq) });
        return;
      case 'skipped':
        // The strategy may have changed the live model half-way (a lenient failure with a record ran it too).
        if (out.reason === 'rejected' || (out.reason === 'failed' && out.record !== null)) checks.discard();
        // Junk or a wrong key? Undecided until a record authenticates (`doubtful`): reported then.
        if (state.doubtful.length === 0) {
          logIgnored(out.reason, out.record?.seq ?? null, state.lineNumber, out.error.code);
        }
        settle(entry, out.plain, { accepted: false, error: out.error });
        return;
      case 'halted':
        if (wasValid) {
          checks.discard();
          const what = out.record === null ? 'history unreadable' : 'history invalid';
          log.debug({ code: out.error.code, line: state.lineNumber }, what);
        }
        settle(entry, out.plain, { accepted: false, error: out.error });
        return;
    }
  }

  return {
    apply,
    reset() {
      reported = 0;
      Object.assign(state, createHistoryState(clock.now()));
      checks.discard();
    },
  };
}
