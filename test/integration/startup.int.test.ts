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
})));
`;

describe('fk start-up loads only what the command uses', () => {
  beforeAll(assertBuilt);

  it('fk status on a file loads no daemon, broker client, history tool, pino, http, crypto, zlib or key cache', () => {
    const box = sandbox();
    try {
      const preload = join(box.dir, 'preload.js');
      const list = join(box.dir, 'modules.json');
      const file = join(box.dir, 'history.txt');
      writeFileSync(preload, PRELOAD);
      writeFileSync(file, `${generateHistory(50).join('\n')}\n`);
      const r = spawnSync(process.execPath, ['--require', preload, FK, '--file', file, 'status'], {
        env: { ...box.env, FK_TEST_MODULES: list },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const loaded = JSON.parse(readFileSync(list, 'utf8')) as { files: string[]; builtins: string[] };
      const unwanted =
        /node_modules\/(pino|amqplib|@xmpp|libsodium)|dist\/(daemon|tools)\/|transports\/(amqp|xmpp)|commands\/(?!index|status)/;
      // A plaintext file needs no key cache, cipher choice or broker replica either.
      const unneeded = /app\/(keyCache|historyCipher|replicaCache)\.js$/;
      expect(loaded.files.filter((f) => unneeded.test(f))).toEqual([]);
      expect(loaded.files.filter((f) => unwanted.test(f))).toEqual([]);
      expect(loaded.files.some((f) => f.endsWith(join('commands', 'status.js')))).toBe(true);
      // child_process (and what it loads): commander's, deferred by the start-up pack until used
      const heavy = /^(http|https|tls|worker_threads|readline|zlib|fs\/promises|crypto|child_process)$/;
      expect(loaded.builtins.filter((b) => heavy.test(b))).toEqual([]);
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
});
