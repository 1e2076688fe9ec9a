#!/usr/bin/env node
// Adapts the Flowkeeper oracle's interface (`COMMAND HISTORY --now ISO [--passphrase P] [--lenient]`,
// ../shared/oracle/check.py) to `fk state`, which never takes a secret on its command line: the
// passphrase is handed over in FK_PASSPHRASE. For the test oracle only (its passphrases are test data).
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const args = process.argv.slice(2);
const env = { ...process.env };
const i = args.indexOf('--passphrase');
if (i >= 0) {
  env.FK_PASSPHRASE = args[i + 1] ?? '';
  args.splice(i, 2);
}
const r = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'cli', 'main.js'), 'state', ...args], { env, stdio: 'inherit' });
process.exitCode = r.status ?? 1;
