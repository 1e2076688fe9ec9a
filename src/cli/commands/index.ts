import type { Command } from 'commander';
import { register as state } from './state';
import { register as convert } from './convert';

/**
 * Every `fk` subcommand lives in its own file under `commands/` and exports `register(program)`.
 * Adding a command = one file + one line here.
 */
export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [state, convert];
