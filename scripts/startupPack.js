#!/usr/bin/env node
'use strict';
/**
 * Writes the start-up pack of the built `dist/` (`npm run build` runs this after tsc; see
 * src/cli/startupPack.ts): the modules `fk status` loads, program and dependencies, in one file
 * (`dist/startup.pack`) with each module's `require` table resolved here, then V8's code cache of
 * them after running `fk status` from the pack with the flags of fk's shebang line
 * (`dist/startup.cache`; V8 uses a cache only under the flags it was made with).
 *
 * Nothing here changes what fk does: a missing or stale pack only makes it start slower.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
const main = path.join(dist, 'cli', 'main.js');
const loader = path.join(dist, 'cli', 'startupPack.js');
const { PACK_FILE, CACHE_FILE } = require(loader);
const { writeStartupPack } = require(path.join(dist, 'cli', 'startupPackWriter.js'));

/**
 * A small history in Flowkeeper's format (test/support/generate.ts, seed 42, and a last line
 * moving a workitem): what `fk status` replays, so that the code cache holds what a replay runs
 * (voided and tracked pomodoros, moves: a function missing from it is compiled at run time).
 */
const HISTORY = [
  "1, 2026-01-05 09:00:00+00:00, admin@local.host: CreateUser(\"user@local.host\", \"Local User\")",
  "2, 2026-01-06 09:15:08.442000+00:00, user@local.host: CreateBacklog(\"9e3779b1-0001-4000-8000-000000000001\", \"Day 1\")",
  "3, 2026-01-06 09:15:31.967002+00:00, user@local.host: CreateWorkitem(\"3c6ef362-0002-4000-8000-000000000002\", \"9e3779b1-0001-4000-8000-000000000001\", \"Check design for #Beta\")",
  "4, 2026-01-06 09:15:36.967002+00:00, user@local.host: UpdateWorkitemCategories(\"3c6ef362-0002-4000-8000-000000000002\", \"\", \"#wg_Pareto_80\")",
  "5, 2026-01-06 09:15:41.967002+00:00, user@local.host: AddPomodoro(\"3c6ef362-0002-4000-8000-000000000002\", \"1\", \"normal\")",
  "6, 2026-01-06 09:16:36.919550+00:00, user@local.host: CreateWorkitem(\"daa66d13-0003-4000-8000-000000000003\", \"9e3779b1-0001-4000-8000-000000000001\", \"Review idea for #Gamma\")",
  "7, 2026-01-06 09:16:41.919550+00:00, user@local.host: AddPomodoro(\"daa66d13-0003-4000-8000-000000000003\", \"3\", \"normal\")",
  "8, 2026-01-06 09:17:25.778341+00:00, user@local.host: CreateWorkitem(\"78dde6c4-0004-4000-8000-000000000004\", \"9e3779b1-0001-4000-8000-000000000001\", \"Explore code for #Omega\")",
  "9, 2026-01-06 09:17:30.778341+00:00, user@local.host: AddPomodoro(\"78dde6c4-0004-4000-8000-000000000004\", \"3\", \"normal\")",
  "10, 2026-01-06 09:18:12.798676+00:00, user@local.host: CreateWorkitem(\"17156075-0005-4000-8000-000000000005\", \"9e3779b1-0001-4000-8000-000000000001\", \"Fix tool for #Beta\")",
  "11, 2026-01-06 09:18:17.798676+00:00, user@local.host: AddPomodoro(\"17156075-0005-4000-8000-000000000005\", \"3\", \"normal\")",
  "12, 2026-01-06 09:18:44.010432+00:00, user@local.host: CreateWorkitem(\"b54cda26-0006-4000-8000-000000000006\", \"9e3779b1-0001-4000-8000-000000000001\", \"Plan email for #Alpha\")",
  "13, 2026-01-06 09:18:49.010432+00:00, user@local.host: UpdateWorkitemCategories(\"b54cda26-0006-4000-8000-000000000006\", \"\", \"#wg_MSW_M\")",
  "14, 2026-01-06 09:18:54.010432+00:00, user@local.host: AddPomodoro(\"b54cda26-0006-4000-8000-000000000006\", \"3\", \"normal\")",
  "15, 2026-01-06 09:19:47.823717+00:00, user@local.host: CreateWorkitem(\"538453d7-0007-4000-8000-000000000007\", \"9e3779b1-0001-4000-8000-000000000001\", \"Plan email for #Gamma\")",
  "16, 2026-01-06 09:19:52.823717+00:00, user@local.host: AddPomodoro(\"538453d7-0007-4000-8000-000000000007\", \"3\", \"normal\")",
  "17, 2026-01-06 09:22:51.658211+00:00, user@local.host: StartTimer(\"3c6ef362-0002-4000-8000-000000000002\", \"1500\", \"0\")",
  "18, 2026-01-06 09:59:36.435776+00:00, user@local.host: StopTimer(\"\", \"\")",
  "19, 2026-01-06 10:00:06.435776+00:00, user@local.host: CompleteWorkitem(\"3c6ef362-0002-4000-8000-000000000002\", \"finished\")",
  "20, 2026-01-06 10:02:00.121210+00:00, user@local.host: StartTimer(\"daa66d13-0003-4000-8000-000000000003\", \"1500\", \"300\")",
  "21, 2026-01-06 10:14:41.380136+00:00, user@local.host: AddInterruption(\"daa66d13-0003-4000-8000-000000000003\", \"An interruption\", \"118\")",
  "22, 2026-01-06 10:45:16.380136+00:00, user@local.host: CompleteWorkitem(\"daa66d13-0003-4000-8000-000000000003\", \"finished\")",
  "23, 2026-01-06 10:46:49.027272+00:00, user@local.host: StartTimer(\"78dde6c4-0004-4000-8000-000000000004\", \"1500\", \"300\")",
  "24, 2026-01-06 10:54:35.810384+00:00, user@local.host: AddInterruption(\"78dde6c4-0004-4000-8000-000000000004\", \"An interruption\", \"66\")",
  "25, 2026-01-06 11:27:55.366508+00:00, user@local.host: StartTimer(\"17156075-0005-4000-8000-000000000005\", \"1500\", \"300\")",
  "26, 2026-01-06 11:58:30.366508+00:00, user@local.host: CompleteWorkitem(\"17156075-0005-4000-8000-000000000005\", \"finished\")",
  "27, 2026-01-06 12:01:27.962930+00:00, user@local.host: StartTimer(\"b54cda26-0006-4000-8000-000000000006\", \"1500\", \"300\")",
  "28, 2026-01-06 12:15:40.871142+00:00, user@local.host: AddInterruption(\"b54cda26-0006-4000-8000-000000000006\", \"An interruption\", \"161\")",
  "29, 2026-01-06 12:47:30.102321+00:00, user@local.host: StartTimer(\"538453d7-0007-4000-8000-000000000007\", \"1500\", \"300\")",
  "30, 2026-01-06 13:17:35.102321+00:00, user@local.host: RenameWorkitem(\"538453d7-0007-4000-8000-000000000007\", \"Fix tool for #Delta\")",
  "31, 2026-01-06 13:18:05.102321+00:00, user@local.host: CompleteWorkitem(\"538453d7-0007-4000-8000-000000000007\", \"finished\")",
  "32, 2026-01-07 09:12:34.827000+00:00, user@local.host: CreateBacklog(\"f1bbcd88-0008-4000-8000-000000000008\", \"Day 2\")",
  "33, 2026-01-07 09:13:03.919022+00:00, user@local.host: CreateWorkitem(\"8ff34739-0009-4000-8000-000000000009\", \"f1bbcd88-0008-4000-8000-000000000008\", \"Plan idea for #Omega\")",
  "34, 2026-01-07 09:13:08.919022+00:00, user@local.host: AddPomodoro(\"8ff34739-0009-4000-8000-000000000009\", \"3\", \"normal\")",
  "35, 2026-01-07 09:13:44.984648+00:00, user@local.host: CreateWorkitem(\"2e2ac0ea-000a-4000-8000-00000000000a\", \"f1bbcd88-0008-4000-8000-000000000008\", \"Explore code for #Gamma\")",
  "36, 2026-01-07 09:13:49.984648+00:00, user@local.host: AddPomodoro(\"2e2ac0ea-000a-4000-8000-00000000000a\", \"3\", \"normal\")",
  "37, 2026-01-07 09:14:27.023155+00:00, user@local.host: CreateWorkitem(\"cc623a9b-000b-4000-8000-00000000000b\", \"f1bbcd88-0008-4000-8000-000000000008\", \"Plan email for #Alpha\")",
  "38, 2026-01-07 09:14:32.023155+00:00, user@local.host: UpdateWorkitemCategories(\"cc623a9b-000b-4000-8000-00000000000b\", \"\", \"#wg_ABCDE_A\")",
  "39, 2026-01-07 09:14:37.023155+00:00, user@local.host: AddPomodoro(\"cc623a9b-000b-4000-8000-00000000000b\", \"3\", \"normal\")",
  "40, 2026-01-07 09:15:29.011234+00:00, user@local.host: CreateWorkitem(\"6a99b44c-000c-4000-8000-00000000000c\", \"f1bbcd88-0008-4000-8000-000000000008\", \"Fix email for #Beta\")",
  "41, 2026-01-07 09:15:34.011234+00:00, user@local.host: UpdateWorkitemCategories(\"6a99b44c-000c-4000-8000-00000000000c\", \"\", \"#wg_ABCDE_A\")",
  "42, 2026-01-07 09:15:39.011234+00:00, user@local.host: AddPomodoro(\"6a99b44c-000c-4000-8000-00000000000c\", \"3\", \"normal\")",
  "43, 2026-01-07 09:16:06.914440+00:00, user@local.host: CreateWorkitem(\"08d12dfd-000d-4000-8000-00000000000d\", \"f1bbcd88-0008-4000-8000-000000000008\", \"Fix tool for #Beta\")",
  "44, 2026-01-07 09:16:11.914440+00:00, user@local.host: UpdateWorkitemCategories(\"08d12dfd-000d-4000-8000-00000000000d\", \"\", \"#wg_Pareto_20\")",
  "45, 2026-01-07 09:16:16.914440+00:00, user@local.host: AddPomodoro(\"08d12dfd-000d-4000-8000-00000000000d\", \"2\", \"normal\")",
  "46, 2026-01-07 09:16:51.581693+00:00, user@local.host: CreateWorkitem(\"a708a7ae-000e-4000-8000-00000000000e\", \"f1bbcd88-0008-4000-8000-000000000008\", \"Write design for #Gamma\")",
  "47, 2026-01-07 09:16:56.581693+00:00, user@local.host: AddPomodoro(\"a708a7ae-000e-4000-8000-00000000000e\", \"2\", \"normal\")",
  "48, 2026-01-07 09:18:24.404992+00:00, user@local.host: StartTimer(\"8ff34739-0009-4000-8000-000000000009\", \"1500\", \"300\")",
  "49, 2026-01-07 09:28:52.304308+00:00, user@local.host: AddInterruption(\"8ff34739-0009-4000-8000-000000000009\", \"Pomodoro voided\", \"\")",
  "50, 2026-01-07 09:28:52.304308+00:00, user@local.host: StopTimer(\"\", \"\")",
  "51, 2026-01-07 09:29:22.304308+00:00, user@local.host: CompleteWorkitem(\"8ff34739-0009-4000-8000-000000000009\", \"finished\")",
  "52, 2026-01-07 09:30:50.554291+00:00, user@local.host: AddPomodoro(\"2e2ac0ea-000a-4000-8000-00000000000a\", \"1\", \"tracker\")",
  "53, 2026-01-07 09:30:50.564291+00:00, user@local.host: StartTimer(\"2e2ac0ea-000a-4000-8000-00000000000a\", \"\")",
  "54, 2026-01-07 09:45:03.060906+00:00, user@local.host: StopTimer(\"\", \"\")",
  "55, 2026-01-07 09:46:36.103938+00:00, user@local.host: AddPomodoro(\"cc623a9b-000b-4000-8000-00000000000b\", \"1\", \"tracker\")",
  "56, 2026-01-07 09:46:36.113938+00:00, user@local.host: StartTimer(\"cc623a9b-000b-4000-8000-00000000000b\", \"\")",
  "57, 2026-01-07 09:54:09.239534+00:00, user@local.host: StopTimer(\"\", \"\")",
  "58, 2026-01-07 09:54:39.239534+00:00, user@local.host: CompleteWorkitem(\"cc623a9b-000b-4000-8000-00000000000b\", \"finished\")",
  "59, 2026-01-07 09:57:33.509016+00:00, user@local.host: StartTimer(\"6a99b44c-000c-4000-8000-00000000000c\", \"1500\", \"300\")",
  "60, 2026-01-07 10:30:30.761513+00:00, user@local.host: StartTimer(\"08d12dfd-000d-4000-8000-00000000000d\", \"1500\", \"300\")",
  "61, 2026-01-07 10:31:00+00:00, user@local.host: MoveWorkitem(\"2e2ac0ea-000a-4000-8000-00000000000a\", \"9e3779b1-0001-4000-8000-000000000001\")",
];

/** The node flags of `#!/usr/bin/env [-S] node [flags]` on fk's first line. */
function shebangFlags() {
  const first = fs.readFileSync(main, 'utf8').split('\n', 1)[0];
  const m = /^#!\S*\benv\s+(?:-S\s+)?node(?:\s+(.*))?$/.exec(first);
  return m && m[1] ? m[1].trim().split(/\s+/) : [];
}

/**
 * The files (absolute, in load order) `fk <args>` loads besides its entry: for `fk --file h
 * status` (its quick path, quickStatus.ts), then for `fk --file=h status` (commander's, which every
 * other command takes).
 */
function modulesOfStatus(tmp, history, env) {
  const quick = modulesOf(tmp, ['--file', history, 'status'], env);
  const seen = new Set(quick);
  return [...quick, ...modulesOf(tmp, [`--file=${history}`, 'status'], env).filter((f) => !seen.has(f))];
}

function modulesOf(tmp, args, env) {
  const list = path.join(tmp, 'modules.json');
  const record = path.join(tmp, 'record.js');
  fs.writeFileSync(
    record,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`,
  );
  const r = spawnSync(process.execPath, ['--require', record, main, ...args], {
    env: { ...env, FK_STARTUP_PACK: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`fk ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const skip = new Set([record, main, loader]);
  return JSON.parse(fs.readFileSync(list, 'utf8')).filter((f) => !skip.has(f) && f.endsWith('.js'));
}

function writeCodeCache(history, env) {
  const code = `
    const pack = require(${JSON.stringify(loader)}).openStartupPack(${JSON.stringify(dist)});
    const program = pack.load('cli/program.js');
    const quick = pack.load('cli/quickStatus.js');
    (async () => {
      for (const args of [['status'], ['status', '--json']]) {
        const code = await program.main(['node', 'fk', '--file', ${JSON.stringify(history)}, ...args]);
        if (code !== 0) throw new Error('fk ' + args.join(' ') + ' exited ' + code);
        await quick.runQuickStatus(['node', 'fk', '--file', ${JSON.stringify(history)}, ...args]);
        if (process.exitCode !== 0) throw new Error('fk ' + args.join(' ') + ' (quick) exited ' + process.exitCode);
      }
      pack.writeCodeCache();
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const r = spawnSync(process.execPath, [...shebangFlags(), '-e', code], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`code cache run exited ${r.status}: ${r.stderr}`);
}

function run() {
  fs.rmSync(path.join(dist, PACK_FILE), { force: true });
  fs.rmSync(path.join(dist, CACHE_FILE), { force: true });
  const tmp = fs.mkdtempSync(path.join(tmpdir(), 'fk-startup-pack-'));
  try {
    const history = path.join(tmp, 'history.txt');
    fs.writeFileSync(history, `${HISTORY.join('\n')}\n`);
    // the developer's FK_* settings (another backend, a passphrase) must not change what runs
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FK_')));
    Object.assign(env, {
      FK_USER: 'user@local.host',
      XDG_CACHE_HOME: path.join(tmp, 'cache'),
      XDG_CONFIG_HOME: path.join(tmp, 'config'),
      XDG_DATA_HOME: path.join(tmp, 'data'),
    });
    writeStartupPack(dist, modulesOfStatus(tmp, history, env));
    writeCodeCache(history, env);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  run();
} catch (err) {
  fs.rmSync(path.join(dist, PACK_FILE), { force: true });
  fs.rmSync(path.join(dist, CACHE_FILE), { force: true });
  process.stderr.write(`start-up pack not written (fk will start slower): ${err.message}\n`);
  process.exit(1);
}
