import { readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, sep } from 'node:path';
import { CACHE_FILE, PACK_FILE, type Manifest, type PackedModule } from './startupPack';

/*
 * The build's half of the start-up pack (startupPack.ts): kept apart so that `fk` does not parse it.
 */

/** Node's own wrapper, on the module's first line so that its line numbers stay the same. */
const WRAP = '(function (exports, require, module, __filename, __dirname) { ';

/** A module's source as V8 compiles it: in Node's wrapper, a first `#!` line made a comment. */
function wrapSource(source: string): string {
  return `${WRAP}${source.replace(/^#!/, '//')}\n})`;
}

/**
 * Writes the pack of `files` (absolute paths of `.js` modules, each under `dir` or reached from it
 * by a relative path) into `dir`, with the `require` calls of each that name another of them
 * resolved now (the build, scripts/startupPack.js). Any code cache of an earlier pack is removed.
 */
export function writeStartupPack(dir: string, files: readonly string[]): void {
  const index = new Map(files.map((f, i) => [f, i]));
  const modules: PackedModule[] = [];
  /** The two texts (ASCII only, the others), as the modules' wrapped sources. */
  const texts: [string[], string[]] = [[], []];
  const lengths = [0, 0];
  let newest = 0;
  for (const file of files) {
    newest = Math.max(newest, statSync(file).mtimeMs);
    const bytes = readFileSync(file);
    const source = bytes.toString('utf8');
    const resolveFrom = createRequire(file).resolve;
    const requires: Record<string, number> = {};
    for (const m of source.matchAll(/\brequire\(\s*(['"])([^'"\n]+)\1\s*\)/g)) {
      const id = m[2] as string;
      if (id in requires) continue;
      let target: string;
      try {
        target = resolveFrom(id);
      } catch {
        continue; // not found from here: left to require at run time
      }
      const i = index.get(target);
      if (i !== undefined) requires[id] = i;
    }
    const rel = relative(dir, file).split(sep).join('/');
    const wrapped = wrapSource(source);
    // eslint-disable-next-line no-control-regex
    const text = /^[\x00-\x7f]*$/.test(wrapped) ? 0 : 1;
    const from = lengths[text] as number;
    lengths[text] = from + wrapped.length;
    texts[text].push(wrapped);
    modules.push({ file: rel, size: bytes.length, text, from, to: from + wrapped.length, requires });
  }
  const ascii = Buffer.from(texts[0].join(''), 'latin1');
  const other = texts[1].join('');
  // UTF-16: the loader copies it into a string (UTF-8 would be decoded, ~18 instructions a byte)
  const utf16 = Buffer.from(other, 'utf16le');
  // offsets are in characters of the text as the loader decodes it: the same string, or no pack
  if (utf16.toString('utf16le') !== other) throw new Error('a module is not valid Unicode text');
  const id = `${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const bounds: [number, number, number] = [0, ascii.length, ascii.length + utf16.length];
  const manifest: Manifest = { format: 3, id, texts: bounds, modules };
  const tmp = `${dir}${sep}${PACK_FILE}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(manifest)}\n`), ascii, utf16]));
  // The pack is as old as its newest module (plus a millisecond for rounding): a module written
  // again later, even within the same tick of the file system's clock as the pack, is newer.
  const time = (newest + 1) / 1000;
  utimesSync(tmp, time, time);
  rmSync(`${dir}${sep}${CACHE_FILE}`, { force: true });
  renameSync(tmp, `${dir}${sep}${PACK_FILE}`);
}
