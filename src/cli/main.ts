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
import { openStartupPack } from './startupPack';

if (require.main === module) {
  const pack = process.env.FK_STARTUP_PACK === '0' ? null : openStartupPack(join(__dirname, '..'));
  const program = (pack?.load('cli/program.js') ?? require('./program')) as typeof Program;
  program.runCli(process.argv);
}
