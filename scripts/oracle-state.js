#!/usr/bin/env node
// Adapts the Flowkeeper oracle's interface (`COMMAND HISTORY --now ISO [--passphrase P] [--lenient]`,
// ../shared/oracle/check.py and fuzz.py) to `fk state`, which never takes a secret on its command
// line: the passphrase is handed over in FK_PASSPHRASE. Runs `fk state` in this same process (one
// start-up, not two). For the test oracle only (its passphrases are test data).
'use strict';
const { join } = require('node:path');

const args = process.argv.slice(2);
const i = args.indexOf('--passphrase');
if (i >= 0) {
  process.env.FK_PASSPHRASE = args[i + 1] ?? '';
  args.splice(i, 2);
}
const { main } = require(join(__dirname, '..', 'dist', 'cli', 'main.js'));
main([process.argv[0], 'fk', 'state', ...args]).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`fk: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
