import { readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, sep } from 'node:path';
import { CACHE_FILE, PACK_FILE, type Manifest, type PackedModule } from './startupPack';

/*
 * The build's half of the start-up pack (startupPack.ts): kept apart so that `fk` does not parse it.
 */

/**
 * Writes the pack of `files` (absolute paths of `.js` modules, each under `dir` or reached from it
 * by a relative path) into `dir`, with the `require` calls of each that name another of them
 * resolved now (the build, scripts/startupPack.js). Any code cache of an earlier pack is removed.
 */
export function writeStartupPack(dir: string, files: readonly string[]): void {
  const index = new Map(files.map((f, i) => [f, i]));
  const modules: PackedModule[] = [];
  const sources: Buffer[] = [];
  let at = 0;
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
    modules.push({ file: rel, size: bytes.length, start: at, end: at + bytes.length, requires });
    sources.push(bytes);
    at += bytes.length;
  }
  const id = `${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const manifest: Manifest = { format: 1, id, modules };
  const tmp = `${dir}${sep}${PACK_FILE}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(manifest)}\n`), ...sources]));
  // The pack is as old as its newest module (plus a millisecond for rounding): a module written
  // again later, even within the same tick of the file system's clock as the pack, is newer.
  const time = (newest + 1) / 1000;
  utimesSync(tmp, time, time);
  rmSync(`${dir}${sep}${CACHE_FILE}`, { force: true });
  renameSync(tmp, `${dir}${sep}${PACK_FILE}`);
}
