#!/usr/bin/env node
/**
 * The `fk` command (package.json `bin`). The program itself is `program.ts`; run as a command,
 * it and the modules `fk status` needs are loaded from the start-up pack when the build wrote one
 * (`startupPack.ts`; `FK_STARTUP_PACK=0` loads every module from its own file).
 */
import { join } from 'node:path';
import type * as Program from './program';
import { openStartupPack } from './startupPack';

if (require.main === module) {
  const pack = process.env.FK_STARTUP_PACK === '0' ? null : openStartupPack(join(__dirname, '..'));
  const program = (pack?.load('cli/program.js') ?? require('./program')) as typeof Program;
  program.runCli(process.argv);
}
