import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * scripts/build.js (`npm run build`, `npm start` and `prepare` through `--if-stale`) in a copy of
 * the project layout whose TypeScript compiler is a stand-in that counts its runs: `npm start`
 * must not rebuild when nothing changed, and must after a source changed or a failed build.
 */
describe('scripts/build.js', () => {
  let root: string;
  const runs = (): number => (existsSync(join(root, 'runs')) ? readFileSync(join(root, 'runs'), 'utf8').length : 0);
  const build = (...args: string[]) =>
    spawnSync(process.execPath, [join(root, 'scripts/build.js'), ...args], { cwd: root, encoding: 'utf8' });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fk-build-'));
    mkdirSync(join(root, 'scripts'));
    copyFileSync(join(__dirname, '../../scripts/build.js'), join(root, 'scripts/build.js'));
    for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'])
      writeFileSync(join(root, f), '{}');
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src/index.ts'), 'export {};\n');
    const tsc = join(root, 'node_modules/typescript/bin');
    mkdirSync(tsc, { recursive: true });
    // the stand-in compiler: counts its runs, emits dist/, fails while FAIL exists
    writeFileSync(
      join(tsc, 'tsc'),
      `const fs = require('fs'); const p = require('path'); const root = process.cwd();
       fs.appendFileSync(p.join(root, 'runs'), '1'); fs.mkdirSync(p.join(root, 'dist/cli'), { recursive: true });
       fs.writeFileSync(p.join(root, 'dist/cli/main.js'), '#!/usr/bin/env node\\nconsole.log(42);\\n', { mode: 0o644 });
       process.exit(fs.existsSync(p.join(root, 'FAIL')) ? 2 : 0);`,
    );
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds when dist is missing, not again when nothing changed, again after a source changed', () => {
    expect(build('--if-stale').status).toBe(0);
    expect(runs()).toBe(1);
    expect(build('--if-stale').status).toBe(0);
    expect(runs()).toBe(1);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(root, 'src/index.ts'), later, later);
    expect(build('--if-stale').status).toBe(0);
    expect(runs()).toBe(2);
    expect(build().status).toBe(0); // npm run build always compiles
    expect(runs()).toBe(3);
  });

  it('makes the bin executable, so it runs by its shebang (and the node flags on it) as npm links it', () => {
    expect(build().status).toBe(0);
    const bin = join(root, 'dist/cli/main.js');
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    const ran = spawnSync(bin, [], { encoding: 'utf8' });
    expect(ran.stdout).toBe('42\n');
  });

  it('does not take a failed build for a fresh one', () => {
    writeFileSync(join(root, 'FAIL'), '');
    const failed = build('--if-stale');
    expect(failed.status).toBe(2);
    expect(failed.stderr).toMatch(/build failed/);
    rmSync(join(root, 'FAIL'));
    expect(build('--if-stale').status).toBe(0);
    expect(runs()).toBe(2);
    expect(build('--if-stale').status).toBe(0);
    expect(runs()).toBe(2);
  });
});
