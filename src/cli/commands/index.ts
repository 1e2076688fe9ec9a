import type { Command } from 'commander';
import { register as backlog } from './backlog';
import { register as check } from './check';
import { register as convert } from './convert';
import { register as daemon } from './daemon';
import { register as pomodoro } from './pomodoro';
import { register as state } from './state';
import { register as status } from './status';
import { register as timer } from './timerCommands';
import { register as workitem } from './workitem';
import { register as exportHistory } from './export';
import { register as importHistory } from './import';
import { register as migrate } from './migrate';
import { register as stats } from './stats';

/**
 * Every `fk` subcommand lives in its own file under `commands/` and exports `register(program)`.
 * Adding a command = one file + one line here.
 */
export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [status, backlog, workitem, pomodoro, timer, state, check, convert, daemon, exportHistory, importHistory, stats, migrate];
