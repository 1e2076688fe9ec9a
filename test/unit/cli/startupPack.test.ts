import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Module from 'node:module';
import { join } from 'node:path';
import { openStartupPack, type StartupPack } from '../../../src/cli/startupPack';
import { writeStartupPack } from '../../../src/cli/startupPackWriter';

/**
 * The start-up pack serves modules exactly as Node's loader would: one instance per file (in
 * require.cache under its own name), the same stack-trace lines, and a module whose file changed
 * after the pack was written comes from its file. Real files, real Node loader (not jest's).
 */
const node = Module as unknown as {
  _cache: Record<string, NodeJS.Module | undefined>;
  _load(request: string, parent: null, isMain: boolean): unknown;
  _nodeModulePaths(dir: string): string[];
};

describe('start-up pack', () => {
  let dir: string;
  const files = (): string[] => ['a.js', 'lib/b.js', 'lib/c.js'].map((f) => join(dir, f));
  const forget = (): void => {
    for (const f of files()) delete node._cache[f];
  };
  const open = (): StartupPack => {
    const pack = openStartupPack(dir);
    if (pack === null) throw new Error('no pack');
    return pack;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fk-pack-unit-'));
    mkdirSync(join(dir, 'lib'));
    writeFileSync(
      join(dir, 'a.js'),
      [
        "'use strict';",
        "const b = require('./lib/b');",
        "const path = require('node:path');",
        'exports.b = b;',
        'exports.base = path.basename(__filename);',
        "exports.c = () => require('./lib/c.js');",
        "exports.child = require('node:child_process');",
        'exports.paths = module.paths;',
        'exports.fail = () => {',
        "  throw new Error('from a');",
        '};',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'lib/b.js'), "'use strict';\nexports.name = 'b';\nexports.dir = __dirname;\n");
    writeFileSync(join(dir, 'lib/c.js'), "'use strict';\nexports.name = 'c';\n");
    const past = new Date(Date.now() - 60_000);
    for (const f of files()) utimesSync(f, past, past);
    writeStartupPack(dir, files());
  });
  afterEach(() => {
    forget();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves modules under their own names: one instance per file, shared with require', () => {
    const a = open().load('a.js') as { b: { name: string; dir: string }; base: string; c: () => unknown };
    expect(a.base).toBe('a.js');
    expect(a.b).toEqual({ name: 'b', dir: join(dir, 'lib') });
    expect(node._cache[join(dir, 'a.js')]?.exports).toBe(a);
    expect(node._load(join(dir, 'lib/b.js'), null, false)).toBe(a.b);
    expect(a.c()).toBe(node._cache[join(dir, 'lib/c.js')]?.exports);
    expect(open().load('missing.js')).toBeNull();
  });

  it('gives each module the lookup paths of its folder, for the bare requires it makes', () => {
    const a = open().load('a.js') as { paths: string[] };
    expect(a.paths).toEqual(node._nodeModulePaths(dir));
  });

  it('keeps the line numbers of stack traces', () => {
    const a = open().load('a.js') as { fail: () => void };
    let stack = '';
    try {
      a.fail();
    } catch (err) {
      stack = (err as Error).stack ?? '';
    }
    expect(stack).toContain(`${join(dir, 'a.js')}:10:`);
  });

  it('loads a module whose file changed since the pack from the file', () => {
    writeFileSync(join(dir, 'lib/b.js'), "'use strict';\nexports.name = 'new b';\n"); // another size
    writeFileSync(join(dir, 'lib/c.js'), "'use strict';\nexports.name = 'C';\n"); // same size, newer
    const a = open().load('a.js') as { b: { name: string }; c: () => { name: string } };
    expect(a.b.name).toBe('new b');
    expect(a.c().name).toBe('C');
  });

  it('defers a rarely used built-in until it is used', () => {
    const a = open().load('a.js') as { child: typeof import('node:child_process') };
    const r = a.child.spawnSync(process.execPath, ['-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(r.stdout).toBe('ok');
    expect(typeof a.child.spawn).toBe('function');
  });

  it('runs the same from its code cache, and ignores a cache of another pack', () => {
    const first = open();
    first.load('a.js');
    first.writeCodeCache();
    forget();
    expect((open().load('a.js') as { b: { name: string } }).b.name).toBe('b');
    forget();
    writeStartupPack(dir, files()); // a new pack: the old cache is not used
    expect((open().load('a.js') as { b: { name: string } }).b.name).toBe('b');
  });

  it('is no pack when the file is missing or unreadable', () => {
    rmSync(join(dir, 'startup.pack'));
    expect(openStartupPack(dir)).toBeNull();
    writeFileSync(join(dir, 'startup.pack'), 'not a pack');
    expect(openStartupPack(dir)).toBeNull();
  });
});
