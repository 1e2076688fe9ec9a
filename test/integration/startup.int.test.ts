import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, FK, sandbox } from '../support/cli';
import { generateHistory } from '../support/generate';

/** Lists, at exit, every module file and built-in the process loaded. */
const PRELOAD = `
process.on('exit', () => require('fs').writeFileSync(process.env.FK_TEST_MODULES, JSON.stringify({
  files: Object.keys(require.cache),
  builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
  bindings: process.moduleLoadList.filter((m) => m.startsWith('Internal Binding ')).map((m) => m.slice(17)),
})));
`;

type Loaded = { files: string[]; builtins: string[]; bindings: string[] };

/** Runs fk with `args(file)` on a 50-line history file in `dir`; what it loaded (it must succeed quietly). */
function loadedBy(dir: string, env: NodeJS.ProcessEnv, args: (file: string) => string[]): Loaded {
  const preload = join(dir, 'preload.js');
  const list = join(dir, 'modules.json');
  const file = join(dir, 'history.txt');
  writeFileSync(preload, PRELOAD);
  writeFileSync(file, `${generateHistory(50).join('\n')}\n`);
  const r = spawnSync(process.execPath, ['--require', preload, FK, ...args(file)], {
    env: { ...env, FK_TEST_MODULES: list },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(readFileSync(list, 'utf8')) as Loaded;
}

describe('fk start-up loads only what the command uses', () => {
  beforeAll(assertBuilt);

  it('fk status on a file loads no daemon, broker, history tool, pino, http, crypto, zlib, key cache, watch', () => {
    const box = sandbox();
    try {
      const loaded = loadedBy(box.dir, box.env, (file) => ['--file', file, 'status']);
      const unwanted =
        /node_modules\/(pino|amqplib|@xmpp|libsodium)|dist\/(daemon|tools)\/|transports\/(amqp|xmpp)|commands\/(?!index|status)/;
      // A plaintext file needs no key cache, cipher choice, cipher or broker replica either.
      const unneeded =
        /app\/(keyCache|historyCipher|replicaCache|brokerOptions)\.js$|core\/crypto\/(index|fernet|sodiumOpen)\.js$/;
      // It only reads: no append or lock code, no action writer (nor its retry backoff), no
      // broker replica follower.
      const writes =
        /transports\/file\/(lockedAppend|lockFile)\.js$|core\/(actionWriter|backoff|replicaFollower)\.js$/;
      // Its plain form runs without commander (quickStatus.ts), and without the snapshot codec on
      // a file too short for a snapshot.
      const quick = /node_modules\/commander\/|cli\/program\.js$|core\/engine\/(modelCodec|modelSegments)\.js$/;
      expect(loaded.files.filter((f) => quick.test(f))).toEqual([]);
      expect(loaded.files.filter((f) => writes.test(f))).toEqual([]);
      expect(loaded.files.filter((f) => unneeded.test(f))).toEqual([]);
      expect(loaded.files.filter((f) => unwanted.test(f))).toEqual([]);
      expect(loaded.files.some((f) => f.endsWith(join('commands', 'status.js')))).toBe(true);
      // child_process (and what it loads): commander's, deferred by the start-up pack until used;
      // stream: process.stdout's (fk writes to the descriptor); os: $HOME is the home directory;
      // module (and the ESM loader it loads): the pack's loader takes Node's module class from its
      // own `module`
      const heavy =
        /^(http|https|tls|worker_threads|readline|zlib|fs\/promises|crypto|child_process|stream|os|module|internal\/modules\/esm\/loader)$/;
      expect(loaded.builtins.filter((b) => heavy.test(b))).toEqual([]);
      // it reads once and exits: no file watch
      expect(loaded.bindings.filter((b) => b === 'fs_event_wrap')).toEqual([]);
    } finally {
      box.cleanup();
    }
  });

  it('fk state of a plaintext file loads no cipher, key cache, OpenSSL or broker reader', () => {
    const box = sandbox();
    try {
      const loaded = loadedBy(box.dir, box.env, (file) => ['state', file]);
      const unneeded = /app\/(keyCache|keyDerivation|historyCipher|historySource)\.js$|core\/crypto\/(index|fernet|sodiumOpen)\.js$/;
      expect(loaded.files.filter((f) => unneeded.test(f))).toEqual([]);
      expect(loaded.files.filter((f) => /node_modules\/(pino|amqplib|@xmpp|libsodium)/.test(f))).toEqual([]);
      expect(loaded.builtins.filter((b) => b === 'crypto')).toEqual([]);
    } finally {
      box.cleanup();
    }
  });

  it('fk prints the same with and without its start-up pack', () => {
    const box = sandbox();
    try {
      const file = join(box.dir, 'history.txt');
      writeFileSync(file, `${generateHistory(120).join('\n')}\n`);
      const run = (pack: boolean, args: string[]) => {
        const r = spawnSync(process.execPath, [FK, ...args], {
          env: { ...box.env, FK_USER: 'user@local.host', ...(pack ? {} : { FK_STARTUP_PACK: '0' }) },
          encoding: 'utf8',
          timeout: 30_000,
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      };
      for (const args of [
        ['--file', file, 'status'],
        ['--file', file, 'status', '--json'],
        ['--file', file, 'status', '--bogus'],
        ['--file', join(box.dir, 'missing', 'h.txt'), 'status'],
        ['--help'],
        ['status', '--help'],
        ['--version'],
      ]) {
        expect({ args, ...run(true, args) }).toEqual({ args, ...run(false, args) });
      }
    } finally {
      box.cleanup();
    }
  });

  it('fk status prints and exits the same with commander as without it (its quick path)', () => {
    const box = sandbox();
    try {
      const file = join(box.dir, 'history.txt');
      writeFileSync(file, `${generateHistory(120).join('\n')}\n`);
      const broken = join(box.dir, 'broken.txt');
      writeFileSync(broken, `${generateHistory(20).join('\n')}\nnot a record\n`);
      const encrypted = join(box.dir, 'encrypted.txt');
      writeFileSync(encrypted, '+gAAAAABnot-really-fernet\n');
      const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
        const r = spawnSync(process.execPath, [FK, ...args], {
          env: { ...box.env, FK_USER: 'user@local.host', ...env },
          encoding: 'utf8',
          timeout: 30_000,
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      };
      // `--file=<path>` and `--log-level warn` (the default) are commander's: the same command
      const cases: Array<[string[], string[], NodeJS.ProcessEnv?]> = [];
      for (const f of [file, broken, encrypted, join(box.dir, 'missing', 'h.txt'), box.dir, '']) {
        for (const json of [[], ['--json']]) {
          cases.push([['--file', f, 'status', ...json], [`--file=${f}`, 'status', ...json]]);
        }
      }
      cases.push([['--file', file, 'status'], [`--file=${file}`, 'status'], { FK_USER: 'other@local.host' }]);
      cases.push([['--file', file, 'status'], [`--file=${file}`, 'status'], { FK_ENCRYPTION: 'bogus' }]);
      cases.push([['--file', file, 'status'], [`--file=${file}`, 'status'], { FK_USER: 'bad user' }]);
      cases.push([['status'], ['--log-level', 'warn', 'status'], { FK_BACKEND: file }]);
      cases.push([['status', '--json'], ['--log-level', 'warn', 'status', '--json'], { FK_BACKEND: broken }]);
      for (const [quick, commander, env] of cases) {
        const q = run(quick, env);
        expect({ quick, ...q }).toEqual({ quick, ...run(commander, env) });
      }
    } finally {
      box.cleanup();
    }
  });

  it('fk ends quietly when its reader has gone (EPIPE), whether it wrote directly or through a stream', () => {
    const box = sandbox();
    try {
      const file = join(box.dir, 'history.txt');
      writeFileSync(file, `${generateHistory(50).join('\n')}\n`);
      // a pipe whose read end is closed before fk starts: its first write fails with EPIPE
      const script = [
        'import json, os, subprocess, sys',
        'r, w = os.pipe()',
        'os.close(r)',
        'p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)',
        'print(json.dumps({"status": p.returncode, "stderr": p.stderr.decode()}))',
      ].join('\n');
      for (const args of [['status'], ['status', '--json'], ['--help']]) {
        const r = spawnSync('python3', ['-c', script, process.execPath, FK, '--file', file, ...args], {
          env: { ...box.env, FK_USER: 'user@local.host' },
          encoding: 'utf8',
          timeout: 30_000,
        });
        expect(r.stderr).toBe('');
        expect({ args, ...JSON.parse(r.stdout) }).toEqual({ args, status: 0, stderr: '' });
      }
    } finally {
      box.cleanup();
    }
  });
});
