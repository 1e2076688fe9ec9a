import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The dependency rules of STYLE §2, enforced on every file: core does no I/O and imports nothing
 * outside core; a transport never imports the CLI or a sibling transport. Plus the test-naming
 * rule of §9: every test file is either `*.test.ts` (unit) or `*.int.test.ts` (integration).
 */
const ROOT = join(__dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => m[1] as string,
  );
}

describe('architecture', () => {
  it('core imports only core, I/O-free node built-ins and (in crypto) libsodium', () => {
    const allowedNode = new Set(['node:crypto', 'node:util']);
    const bad: string[] = [];
    for (const f of files(join(ROOT, 'src/core'))) {
      for (const i of imports(f)) {
        const rel = relative(ROOT, f);
        if (i.startsWith('.')) {
          if (!join(f, '..', i).startsWith(join(ROOT, 'src/core'))) bad.push(`${rel} -> ${i}`);
        } else if (i.startsWith('node:')) {
          if (!allowedNode.has(i)) bad.push(`${rel} -> ${i}`);
        } else if (!(i.startsWith('libsodium-wrappers') && /crypto\.ts$/.test(f))) bad.push(`${rel} -> ${i}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('transports never import the CLI or another transport', () => {
    const bad: string[] = [];
    const base = join(ROOT, 'src/transports');
    for (const t of readdirSync(base)) {
      for (const f of files(join(base, t))) {
        for (const i of imports(f)) {
          if (!i.startsWith('.')) continue;
          const target = join(f, '..', i);
          if (target.startsWith(join(ROOT, 'src/cli')) || (target.startsWith(base) && !target.startsWith(join(base, t)))) {
            bad.push(`${relative(ROOT, f)} -> ${i}`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('nothing imports the CLI except the CLI itself (and benchmarks)', () => {
    const bad = files(join(ROOT, 'src'))
      .filter((f) => !f.startsWith(join(ROOT, 'src/cli')) && !f.startsWith(join(ROOT, 'src/bench')))
      .flatMap((f) => imports(f).filter((i) => i.startsWith('.') && join(f, '..', i).startsWith(join(ROOT, 'src/cli'))).map((i) => `${relative(ROOT, f)} -> ${i}`));
    expect(bad).toEqual([]);
  });

  it('every test file is named *.test.ts or *.int.test.ts, so no test is silently dropped', () => {
    const loose = files(join(ROOT, 'test'))
      .map((f) => relative(join(ROOT, 'test'), f))
      .filter((f) => !/^(support|contract|fixtures)\//.test(f))
      .filter((f) => !f.endsWith('.test.ts'));
    expect(loose).toEqual([]);
  });
});
