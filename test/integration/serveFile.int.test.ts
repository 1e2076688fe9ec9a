import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVED_HEADER } from '../../src/core/engine/seed';
import { fileLayout } from '../../src/serve/backends/file';
import { FK, assertBuilt } from '../support/cli';
import { describeWithRealClient } from '../support/realClient';
import { serveScenarios, type ServeFixture } from '../support/serveScenarios';

/** `fk serve --backend <dir>` with Flowkeeper's real client: every scenario of issue 14. */
jest.setTimeout(300_000);

describeWithRealClient('fk serve on the file backend, with the real Flowkeeper client', () => {
  let dir: string;
  let n = 0;
  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'fk-serve-file-'));
  });
  const fixture = (): ServeFixture => ({
    backend: dir,
    async newAccount(prefix) {
      const email = `${prefix}-${++n}@example.org`;
      const password = `pw-${prefix}-${n}-secret`;
      const r = spawnSync(process.execPath, [FK, 'serve', 'user', 'add', email, '--backend', dir], {
        env: { ...process.env, FK_SERVE_PASSWORD: password },
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (r.status !== 0) throw new Error(`fk serve user add failed: ${r.stderr}`);
      return { email, password };
    },
    async stored(email) {
      const path = fileLayout(dir).history(email);
      if (!existsSync(path)) return [];
      const lines = readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      expect(lines[0]).toBe(SERVED_HEADER);
      return lines.slice(1);
    },
    fk: (email) => ({ args: ['--backend', fileLayout(dir).history(email), '--user', email], env: {} }),
  });

  serveScenarios(fixture, ['replay', 'e2e', 'wrong-password', 'isolation', 'conflict', 'restart', 'delete']);
  // After the scenarios' own afterAll (which stops the server).
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
