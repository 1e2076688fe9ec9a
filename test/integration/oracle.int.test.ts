import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, assertBuilt } from '../support/cli';
import { sharedDir } from '../support/shared';

/**
 * Runs the oracle's own checker (shared/oracle/check.py next to the repository, see support/shared.ts)
 * against the built `fk state` (through scripts/oracle-state.js): every case must pass.
 */
const CHECK = join(sharedDir(ROOT), 'oracle', 'check.py');
const available = existsSync(CHECK);
if (!available && process.env.CI === 'true') throw new Error(`the oracle checker ${CHECK} is missing`);

(available ? describe : describe.skip)('oracle check.py against fk state', () => {
  it('reports every case passed', () => {
    assertBuilt();
    // fk state takes no secret on argv: the adapter turns the oracle's --passphrase into FK_PASSPHRASE.
    const r = spawnSync('python3', [CHECK, '--', process.execPath, join(ROOT, 'scripts/oracle-state.js')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const summary = r.stdout.trim().split('\n').pop() ?? '';
    expect(r.stdout).not.toMatch(/^FAIL/m);
    expect(summary).toMatch(/^\d+ passed, 0 failed$/);
    expect(r.status).toBe(0);
  }, 120_000);
});
