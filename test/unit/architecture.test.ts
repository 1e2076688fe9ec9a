import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * The layers, enforced on every import (STYLE §2, docs/design.md "Layers"):
 *
 *   core/{engine,crypto,notify}   pure: no I/O; crypto imports no engine, engine no notify
 *   tools                         pure history tools over core
 *   transports/<x>                core + its own client library, never a sibling or anything above
 *   app                           configuration, sessions, keys: shared by the programs below
 *   cli, daemon (and other programs in src/)   the composition roots; only cli wires the others
 *
 * Plus the test-naming rule of §9: every test file is either `*.test.ts` or `*.int.test.ts`.
 */
const ROOT = join(__dirname, '../..');
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] as string);
}

/** The file an import names: `x.ts`, or `x/index.ts` for a folder. */
function resolveTs(abs: string): string {
  return existsSync(`${abs}.ts`) || !existsSync(abs) ? `${abs}.ts` : join(abs, 'index.ts');
}

/** The top folder under src/ (or `core/<part>`, `transports/<part>`) a file belongs to. */
function layerOf(abs: string): string {
  const parts = relative(SRC, abs).split(sep);
  if (parts[0] === 'core' && parts.length > 2) return `core/${parts[1]}`;
  if (parts[0] === 'transports' && parts.length > 2) return `transports/${parts[1]}`;
  return parts.length > 1 ? (parts[0] as string) : 'index';
}

/** Every relative import of every src file, as [importing layer, imported layer, description]. */
function edges(): Array<[string, string, string]> {
  return files(SRC).flatMap((f) =>
    imports(f)
      .filter((i) => i.startsWith('.'))
      .map((i): [string, string, string] => [
        layerOf(f),
        layerOf(resolveTs(join(f, '..', i))),
        `${relative(ROOT, f)} -> ${i}`,
      ]),
  );
}

/** Which layers each layer may import (besides itself). Anything not listed is refused. */
const ALLOWED: Record<string, readonly string[]> = {
  core: ['core/engine', 'core/crypto', 'core/notify'],
  'core/engine': ['core', 'core/crypto'],
  'core/crypto': ['core'],
  'core/notify': ['core', 'core/engine'],
  tools: ['core', 'core/engine', 'core/crypto', 'core/notify'],
  'transports/memory': ['core'],
  'transports/file': ['core'],
  'transports/amqp': ['core'],
  'transports/xmpp': ['core'],
  app: [
    'core',
    'core/engine',
    'core/crypto',
    'core/notify',
    'tools',
    'transports/file',
    'transports/amqp',
    'transports/xmpp',
    'transports/memory',
  ],
};
const PROGRAM_DEPS = [...(ALLOWED.app as string[]), 'app'];

describe('architecture', () => {
  it('every layer imports only the layers below it', () => {
    const bad = edges().filter(([from, to]) => {
      if (from === to) return false;
      if (from === 'index') return !to.startsWith('core') && !to.startsWith('transports/');
      if (from === 'cli') return false; // the composition root wires every program
      const allowed = ALLOWED[from] ?? PROGRAM_DEPS; // any other folder is a program (daemon, ...)
      return !allowed.includes(to);
    });
    expect(bad.map(([, , d]) => d)).toEqual([]);
  });

  it('outside its folder, a transport is reached only through its index', () => {
    const bad = edges().filter(
      ([from, to, d]) =>
        from !== to && to.startsWith('transports/') && !/\/transports\/[a-z]+['"]?$/.test(d.replace(/\/index$/, '')),
    );
    expect(bad.map(([, , d]) => d)).toEqual([]);
  });

  it('core imports only I/O-free node built-ins, and libsodium only in core/crypto', () => {
    const allowedNode = new Set(['node:crypto', 'node:util']);
    const bad: string[] = [];
    for (const f of files(join(SRC, 'core'))) {
      for (const i of imports(f)) {
        if (i.startsWith('.')) continue;
        if (
          i.startsWith('node:')
            ? allowedNode.has(i)
            : i.startsWith('libsodium-wrappers') && layerOf(f) === 'core/crypto'
        )
          continue;
        bad.push(`${relative(ROOT, f)} -> ${i}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('tools are pure: no node built-ins that do I/O and no third-party packages', () => {
    const bad = files(join(SRC, 'tools')).flatMap((f) =>
      imports(f)
        .filter((i) => !i.startsWith('.') && i !== 'node:crypto')
        .map((i) => `${relative(ROOT, f)} -> ${i}`),
    );
    expect(bad).toEqual([]);
  });

  it('shipped code never imports benchmarks or tests', () => {
    const bad = files(SRC).flatMap((f) =>
      imports(f)
        .filter((i) => i.startsWith('.') && !join(f, '..', i).startsWith(SRC))
        .map((i) => `${relative(ROOT, f)} -> ${i}`),
    );
    expect(bad).toEqual([]);
  });

  it('every test file is named *.test.ts or *.int.test.ts, so no test is silently dropped', () => {
    const loose = files(join(ROOT, 'test'))
      .map((f) => relative(join(ROOT, 'test'), f))
      // soak/ is a program (`npm run soak`, built by tsconfig.soak.json), not a test tier
      .filter((f) => !/^(support|contract|fixtures|soak)\//.test(f))
      .filter((f) => !f.endsWith('.test.ts'));
    expect(loose).toEqual([]);
  });
});
