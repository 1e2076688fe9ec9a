import { ParseError } from '../../errors';
import type { StrategyName } from '../records';
import { secondsToTimedelta } from '../time';
import { pyFloat, pyInt } from './pyNumbers';

/**
 * What Flowkeeper checks while it *builds* a strategy from a parsed line, before the line gets a
 * sequence number: the parameters each constructor reads (`params[i]` raises `IndexError`) and
 * the numbers it converts (`int(...)`, `float(...)`, `timedelta(seconds=...)`). A failure here
 * belongs to an unparsed line, so its `seq` is unknown, like a syntax error.
 */

/** The most pomodoros one AddPomodoro may add; see docs/design.md ("Limits"). */
export const MAX_POMODOROS_PER_ACTION = 10_000;

type Rule = (params: readonly string[], fail: Fail) => void;
type Fail = (pythonName: string, pythonError: string, message: string) => never;

const need =
  (count: number): Rule =>
  (params, fail) => {
    if (params.length < count) {
      fail('IndexError', 'list index out of range', `needs ${count} parameters, got ${params.length}`);
    }
  };

function int(params: readonly string[], i: number, what: string, fail: Fail): number {
  const text = params[i] as string;
  const v = pyInt(text);
  if (v === null) {
    fail('ValueError', `invalid literal for int() with base 10: '${text}'`, `${what} must be an integer: '${text}'`);
  }
  return v;
}

function float(params: readonly string[], i: number, what: string, fail: Fail): number {
  const text = params[i] as string;
  const v = pyFloat(text);
  if (v === null) fail('ValueError', `could not convert to float: '${text}'`, `${what} must be a number: '${text}'`);
  return v;
}

const withInt =
  (count: number, at: number, what: string): Rule =>
  (params, fail) => {
    need(count)(params, fail);
    int(params, at, what, fail);
  };

const RULES: Readonly<Record<StrategyName, Rule>> = {
  CreateUser: need(2),
  DeleteUser: need(1),
  RenameUser: need(2),
  CreateBacklog: need(2),
  DeleteBacklog: need(1),
  RenameBacklog: need(2),
  ReorderBacklog: withInt(2, 1, 'index'),
  CreateCategory: need(3),
  DeleteCategory: need(1),
  RenameCategory: need(2),
  ReorderCategory: withInt(2, 1, 'index'),
  CreateWorkitem: need(3),
  DeleteWorkitem: need(1),
  RenameWorkitem: need(2),
  CompleteWorkitem: need(2),
  RestoreWorkitem: need(1),
  ReorderWorkitem: withInt(2, 1, 'index'),
  MoveWorkitem: need(2),
  UpdateWorkitemCategories: need(3),
  AddPomodoro: (params, fail) => {
    need(2)(params, fail);
    const n = int(params, 1, 'number of pomodoros', fail);
    if (n > MAX_POMODOROS_PER_ACTION) {
      const why = `adds ${params[1]} pomodoros, more than ${MAX_POMODOROS_PER_ACTION} at once`;
      fail('ValueError', `too many pomodoros: ${params[1]}`, why);
    }
  },
  RemovePomodoro: withInt(2, 1, 'number of pomodoros'),
  AddInterruption: (params, fail) => {
    need(2)(params, fail);
    if (params.length > 2 && params[2] !== '') {
      const seconds = float(params, 2, 'interruption duration', fail);
      const problem = secondsToTimedelta(seconds).problem;
      const why = `interruption duration '${params[2]}': ${problem?.message ?? ''}`;
      if (problem !== null) fail(problem.pythonName, problem.pythonError, why);
    }
  },
  StartTimer: (params, fail) => {
    need(1)(params, fail);
    if (params.length >= 2 && params[1] !== '') {
      float(params, 1, 'work duration', fail);
      if (params.length >= 3 && params[2] !== '') float(params, 2, 'rest duration', fail);
    }
  },
  StopTimer: () => undefined,
  StartWork: (params, fail) => {
    need(2)(params, fail);
    float(params, 1, 'work duration', fail);
    if (params.length === 3) float(params, 2, 'rest duration', fail);
  },
  VoidPomodoro: need(1),
  FinishTracking: () => undefined,
};

/**
 * Throws `ParseError` (no `seq`) where Flowkeeper's constructor for `name` would raise. For a
 * decrypted line the parameters stay out of the error.
 */
export function assertConstructible(
  name: StrategyName,
  params: readonly string[],
  lineNumber: number,
  hide = false,
): void {
  RULES[name](params, (pythonName, pythonError, message) => {
    const shown = hide ? 'has a parameter it cannot use (an encrypted record: its content is not shown)' : message;
    throw new ParseError('FK_PARSE_FAILED', `line ${lineNumber}: ${name} ${shown}`, {
      lineNumber,
      details: { pythonName, pythonError: hide ? shown : pythonError },
    });
  });
}
