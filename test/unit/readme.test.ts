import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The README's error-code table is checked against the catalog in src/core/errors.ts. */
describe('README', () => {
  it('documents exactly the error codes of the catalog', () => {
    const root = join(__dirname, '../..');
    const errors = readFileSync(join(root, 'src/core/errors.ts'), 'utf8');
    const union = errors.slice(
      errors.indexOf('export type FkErrorCode'),
      errors.indexOf(';', errors.indexOf('export type FkErrorCode')),
    );
    const codes = [...union.matchAll(/'(FK_[A-Z_]+)'/g)].map((m) => m[1]).sort();
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `(FK_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(codes);
  });

  it('has exactly two set-up commands', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('## CLI quick start'));
    const block = /```sh\n([\s\S]*?)```/.exec(setup)?.[1] ?? '';
    expect(block.trim().split('\n')).toHaveLength(2);
  });
});
