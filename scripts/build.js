#!/usr/bin/env node
'use strict';
/**
 * Builds `dist/` with tsc (`npm run build`), then its start-up pack (scripts/startupPack.js), and
 * with `--if-stale` only when a source changed since the last successful build (`npm start`,
 * `prepare`): a stamp written after tsc succeeds is compared with the newest source, so a failed
 * build never passes for a fresh one.
 *
 * `npm install -g .` in a fresh clone links the folder and runs `prepare` there without
 * installing the folder's dependencies (npm installs none for a linked folder): with no
 * `node_modules` at all, this installs exactly the lock file first (`npm ci --ignore-scripts`,
 * so this script does not run again), then builds; the link then finds its dependencies.
 */
const { spawnSync } = require('node:child_process');
const { chmodSync, existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted or renamed file changes its directory
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function isStale() {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  return inputs.some((p) => newestMtime(join(root, p)) > built);
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);
if (!existsSync(join(root, 'node_modules'))) {
  process.stderr.write('no node_modules: installing the locked dependencies (npm ci) before building\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // The lifecycle environment of `npm install -g` says "global" and names the global prefix.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(global|prefix|location)$/i.test(k)));
  const ci = spawnSync(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', env });
  if (ci.status !== 0) process.exit(ci.status ?? 1);
}
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write('build failed: dist/ may be incomplete (run npm run build after fixing the errors)\n');
  process.exit(r.status ?? 1);
}
// The bin runs by its shebang (and the node flags on it) from a clone too, as npm's link would.
chmodSync(join(root, 'dist', 'cli', 'main.js'), 0o755);
// The start-up pack of the new build (scripts/startupPack.js): without it fk only starts slower.
const pack = join(root, 'scripts', 'startupPack.js');
if (existsSync(pack) && existsSync(join(root, 'dist', 'cli', 'startupPack.js'))) {
  spawnSync(process.execPath, [pack], { cwd: root, stdio: 'inherit' });
}
writeFileSync(stamp, `${new Date().toISOString()}\n`);
