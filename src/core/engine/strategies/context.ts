import type { Micros } from '../../clock';
import {
  DomainError,
  type DomainRule,
  type ErrorDetails,
  type FkErrorCode,
  type Refusal,
  type RefusedEntity,
} from '../../errors';
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

/** Raises what Python raised for a duration or date sum it could not compute (a timer too far away). */
export function pyFail(problem: PyProblem): never {
  fail(problem.message, { rule: 'invalid-parameter', entity: 'timer' }, problem.pythonName, problem.pythonError);
}

/**
 * Refuses the strategy: `message` is Flowkeeper's own wording, `refusal` the rule in data (see
 * `Refusal` in errors.ts). Flowkeeper raises plain `Exception`s for rule violations, `KeyError`
 * for missing keys, `ValueError`/`IndexError` for bad parameters.
 */
export function fail(message: string, refusal: Refusal, pythonName = 'Exception', pythonError?: string): never {
  throw new DomainError(codeOf(refusal.rule), message, {
    pythonName,
    details: { pythonError: pythonError ?? message, ...detailsOf(refusal) },
  });
}

function detailsOf(r: Refusal): ErrorDetails {
  return {
    rule: r.rule,
    entity: r.entity,
    ...(r.uid === undefined ? {} : { uid: r.uid }),
    ...(r.available === undefined ? {} : { available: r.available }),
  };
}

function codeOf(rule: DomainRule): FkErrorCode {
  return rule === 'not-found' ? 'FK_NOT_FOUND' : rule === 'already-exists' ? 'FK_ALREADY_EXISTS' : 'FK_ILLEGAL_STATE';
}

/** Flowkeeper's "already exists" (a plain Exception). */
export function alreadyExists(entity: RefusedEntity, uid: string): never {
  const message = `${entity} '${uid}' already exists`;
  fail(message, { rule: 'already-exists', entity, uid }, 'Exception', `${entity} "${uid}" already exists`);
}

/**
 * Flowkeeper's "not found": a plain Exception, or KeyError where it indexes a dict. `what` words
 * the lookup when it is more than the entity (`usage by workitem w1 of category`).
 */
export function notFound(entity: RefusedEntity, uid: string, pythonName = 'Exception', what: string = entity): never {
  const pythonError = pythonName === 'KeyError' ? `'${uid}'` : `${what} "${uid}" not found`;
  fail(`${what} '${uid}' not found`, { rule: 'not-found', entity, uid }, pythonName, pythonError);
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

/** The workitem `uid` is finished or canceled. */
export const sealed = (uid: string): Refusal => ({ rule: 'sealed', entity: 'workitem', uid });

/** A parameter of the record that the strategy cannot take. */
export const BAD_PARAMETER: Refusal = { rule: 'invalid-parameter', entity: 'record' };

export function param(ctx: StrategyContext, i: number): string {
  const p = ctx.record.params[i];
  if (p === undefined) {
    fail(`${ctx.record.name} needs parameter ${i + 1}`, BAD_PARAMETER, 'IndexError', 'list index out of range');
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
  if (v === null) {
    const message = `parameter ${i + 1} must be an integer: '${text}'`;
    fail(message, BAD_PARAMETER, 'ValueError', `invalid literal for int(): '${text}'`);
  }
  return v;
}

/** Python `float(params[i])`. */
export function floatParam(ctx: StrategyContext, i: number): number {
  const text = param(ctx, i);
  const v = pyFloat(text);
  if (v === null) {
    const message = `parameter ${i + 1} must be a number: '${text}'`;
    fail(message, BAD_PARAMETER, 'ValueError', `could not convert to float: '${text}'`);
  }
  return v;
}
