import type { Micros } from '../../clock';
import { DomainError } from '../../errors';
import type { StrategyRecord } from '../records';
import { type Backlog, type Category, type Tenant, type User, type Workitem } from '../model';

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

/** Flowkeeper raises plain `Exception`s for rule violations and `KeyError` for missing keys. */
export function fail(message: string, pythonName = 'Exception', pythonError?: string): never {
  throw new DomainError('FK_ILLEGAL_STATE', message, {
    pythonName,
    details: { pythonError: pythonError ?? message },
  });
}

export function alreadyExists(what: string, uid: string): never {
  throw new DomainError('FK_ALREADY_EXISTS', `${what} '${uid}' already exists`, {
    pythonName: 'Exception',
    details: { pythonError: `${what} ${uid} already exists` },
  });
}

export function notFound(what: string, uid: string): never {
  throw new DomainError('FK_NOT_FOUND', `${what} '${uid}' not found`, {
    pythonName: 'KeyError',
    details: { pythonError: `'${uid}'` },
  });
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

export function userOf(ctx: StrategyContext): User {
  const u = ctx.tenant.users.get(ctx.record.user);
  return u ?? notFound('user', ctx.record.user);
}

export function backlogOf(user: User, uid: string): Backlog {
  return user.backlogs.get(uid) ?? notFound('backlog', uid);
}

export function workitemOf(user: User, uid: string): Workitem {
  return user.workitems.get(uid) ?? notFound('workitem', uid);
}

export function categoryOf(user: User, uid: string): Category {
  return user.categories.get(uid) ?? notFound('category', uid);
}

/** Python `float(text)`, strict: rejects what Python rejects. */
export function parseFloatParam(text: string, what: string): number {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) && !/^[+-]?(inf|infinity|nan)$/i.test(t)) {
    fail(`${what} must be a number, got '${text}'`, 'ValueError', `could not convert string to float: '${text}'`);
  }
  return Number(t.replace(/^([+-]?)inf(inity)?$/i, '$1Infinity'));
}

/** Python `int(text)`. */
export function parseIntParam(text: string, what: string): number {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) {
    fail(`${what} must be an integer, got '${text}'`, 'ValueError', `invalid literal for int() with base 10: '${text}'`);
  }
  return Number(t);
}
