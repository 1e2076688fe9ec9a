import type { Micros } from '../../clock';
import { DomainError } from '../../errors';
import type { StrategyRecord } from '../records';
import { type Tenant, type User, type Workitem } from '../model';
import type { PyProblem } from '../time';
import { pyFloat, pyInt } from './pyNumbers';

/** What a strategy sees while it executes. */
export interface StrategyContext {
  readonly tenant: Tenant;
  readonly record: StrategyRecord;
  /** The wall clock of this replay (`--now`): Flowkeeper reads it in a few places. */
  readonly now: Micros;
  /** Default durations for AddPomodoro, in seconds (Flowkeeper's settings: 25 min / 5 min). */
  readonly defaultWork: number;
  readonly defaultRest: number;
  /** Fresh ids for things Flowkeeper never persists (pomodoros, interruptions). */
  newId(): string;
}

export type StrategyHandler = (ctx: StrategyContext) => void;

/** An instant and the zone it was written in: its UTC offset in µs, or null when written without one. */
export interface Stamp {
  readonly t: Micros;
  readonly zone: number | null;
}

/** The record's timestamp with its zone (records made here, not read from a file, are UTC). */
export function whenOf(ctx: StrategyContext): Stamp {
  const zone = ctx.record.zone;
  return { t: ctx.record.when, zone: zone === undefined ? 0 : zone };
}

/** True when the record's timestamp has no UTC offset (a naive Python datetime). */
export function isNaive(ctx: StrategyContext): boolean {
  return ctx.record.zone === null;
}

/** Raises what Python raised for a duration or date sum it could not compute. */
export function pyFail(problem: PyProblem): never {
  fail(problem.message, problem.pythonName, problem.pythonError);
}

/** Flowkeeper raises plain `Exception`s for rule violations and `KeyError` for missing keys. */
export function fail(message: string, pythonName = 'Exception', pythonError?: string): never {
  throw new DomainError('FK_ILLEGAL_STATE', message, {
    pythonName,
    details: { pythonError: pythonError ?? message },
  });
}

/** Flowkeeper's "already exists" (a plain Exception). */
export function alreadyExists(what: string, uid: string): never {
  throw new DomainError('FK_ALREADY_EXISTS', `${what} '${uid}' already exists`, {
    pythonName: 'Exception',
    details: { pythonError: `${what} "${uid}" already exists` },
  });
}

/** Flowkeeper's "not found": a plain Exception, or KeyError where it indexes a dict. */
export function notFound(what: string, uid: string, pythonName = 'Exception'): never {
  throw new DomainError('FK_NOT_FOUND', `${what} '${uid}' not found`, {
    pythonName,
    details: { pythonError: pythonName === 'KeyError' ? `'${uid}'` : `${what} "${uid}" not found` },
  });
}

/** The acting user as `AbstractStrategy.get_user` finds it (a plain Exception when unknown). */
export function actingUser(ctx: StrategyContext): User {
  const u = ctx.tenant.users.get(ctx.record.user);
  return u ?? notFound('user', ctx.record.user);
}

/** The workitem Flowkeeper finds for `uid`: the first backlog, in order, that holds it. */
export function findWorkitem(user: User, uid: string): Workitem {
  return user.workitems.get(uid) ?? notFound('workitem', uid);
}

export function param(ctx: StrategyContext, i: number): string {
  const p = ctx.record.params[i];
  if (p === undefined) {
    throw new DomainError('FK_ILLEGAL_STATE', `${ctx.record.name} needs parameter ${i + 1}`, {
      pythonName: 'IndexError',
      details: { pythonError: 'list index out of range' },
    });
  }
  return p;
}

/** The acting user as `data[identity]` finds it (KeyError when unknown). */
export function userOf(ctx: StrategyContext): User {
  const u = ctx.tenant.users.get(ctx.record.user);
  return u ?? notFound('user', ctx.record.user, 'KeyError');
}

/** Python `int(params[i])` (construct.ts refuses a bad one while parsing a line; this guards records made in code). */
export function intParam(ctx: StrategyContext, i: number): number {
  const text = param(ctx, i);
  const v = pyInt(text);
  if (v === null) fail(`parameter ${i + 1} must be an integer: '${text}'`, 'ValueError', `invalid literal for int(): '${text}'`);
  return v;
}

/** Python `float(params[i])`. */
export function floatParam(ctx: StrategyContext, i: number): number {
  const text = param(ctx, i);
  const v = pyFloat(text);
  if (v === null) fail(`parameter ${i + 1} must be a number: '${text}'`, 'ValueError', `could not convert to float: '${text}'`);
  return v;
}
