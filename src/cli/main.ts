#!/usr/bin/env -S node --max-semi-space-size=1
// The flag (read once, at process start: it cannot be set from inside): V8's young generation
// grows to 16 MiB semi-spaces by default, which a replay's short-lived objects fill at once;
// 1 MiB keeps `fk state` of 30k lines at ~85 instead of ~111 MiB peak RSS, at the same speed
// (README, bench `state`). `env -S` splits the line (GNU coreutils >= 8.30, BSD and macOS env).
/**
 * The `fk` command (package.json `bin`). The program itself is `program.ts`; run as a command,
 * it and the modules `fk status` needs are loaded from the start-up pack when the build wrote one
 * (`startupPack.ts`; `FK_STARTUP_PACK=0` loads every module from its own file).
 */
import { join } from 'node:path';
import type * as Program from './program';
import type * as QuickStatus from './quickStatus';
import { openStartupPack } from './startupPack';

/** The program, loaded on first use (`main.js` required as a module: the oracle's adapter, tests). */
const program = (): typeof Program => require('./program') as typeof Program;

export const main: typeof Program.main = (argv) => program().main(argv);
export const buildProgram: typeof Program.buildProgram = (argv) => program().buildProgram(argv);
export const commandName: typeof Program.commandName = (cmd, argv) => program().commandName(cmd, argv);
export const reportError: typeof Program.reportError = (err, debug) => program().reportError(err, debug);

if (require.main === module) {
  const pack = process.env.FK_STARTUP_PACK === '0' ? null : openStartupPack(join(__dirname, '..'));
  // the plain forms of `fk status` run without commander (quickStatus.ts), anything else with it
  const quick = (pack?.load('cli/quickStatus.js') ?? require('./quickStatus')) as typeof QuickStatus;
  if (quick.runQuickStatus(process.argv) === null)
    ((pack?.load('cli/program.js') as typeof Program | null) ?? program()).runCli(process.argv);
}
