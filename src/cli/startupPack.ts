import { readFileSync, statSync, writeFileSync, type Stats } from 'node:fs';
import type NodeModule from 'node:module';
import { dirname, resolve, sep } from 'node:path';
import { Script } from 'node:vm';

/**
 * The start-up pack (issue 12): `npm run build` (scripts/startupPack.js) writes into `dist/` the
 * modules `fk status` loads, program and dependencies, as one file (`startup.pack`) with each
 * module's `require` table resolved at build time, and V8's code cache of them after a run
 * (`startup.cache`). `fk` then loads those modules from the pack: one read instead of a file
 * lookup, read and compile per module, and functions that need not be compiled again.
 *
 * The pack holds each module's source in Node's wrapper, in one of two texts (the modules of
 * ASCII characters only, then the others, stored as UTF-16 so that reading them is a copy, not a
 * decoding), each read into one string when the first module of it is compiled: a module's
 * source is a slice of it (no copy), and the texts, past V8's size for large objects, never fill
 * the young generation (no copying them in a scavenge).
 *
 * Every module keeps its own file name, `module` object and place in `require.cache` (a module
 * loaded from disk and one from the pack are the same module), and its stack traces name the
 * same lines. A module whose file changed since it was packed (another size, or newer than the
 * newest module packed, whose time the pack takes) is loaded from disk as usual: a stale pack
 * costs time, never behaviour. V8 refuses a code cache made by another V8 or with other flags;
 * the module is then compiled as usual.
 */
export interface StartupPack {
  /** The exports of a packed module (path relative to the pack's folder), or null if it is not in it. */
  load(path: string): unknown;
  /** Writes V8's code cache of the modules run so far (the build's second step). */
  writeCodeCache(): void;
}

export interface PackedModule {
  /** Path relative to the pack's folder. */
  readonly file: string;
  /** Of the module's file (what is compared to tell a changed file). */
  readonly size: number;
  /** The text holding the source in Node's wrapper (0: ASCII only, 1: the others). */
  readonly text: 0 | 1;
  /** Where in that text, in characters (UTF-16 code units). */
  readonly from: number;
  readonly to: number;
  /** `require(request)` → index of the packed module it resolves to. */
  readonly requires: Readonly<Record<string, number>>;
}

export interface Manifest {
  readonly format: 3;
  /** Names the pack, so a code cache of another pack is never used. */
  readonly id: string;
  /**
   * Byte offsets after the manifest line: the ASCII text is `[texts[0], texts[1])` (read as
   * Latin-1), the other `[texts[1], texts[2])` (UTF-16LE): both a plain copy, no decoding.
   */
  readonly texts: readonly [number, number, number];
  readonly modules: readonly PackedModule[];
}

export const PACK_FILE = 'startup.pack';
export const CACHE_FILE = 'startup.cache';

/**
 * Built-in modules a packed dependency requires at load time but rarely uses: given as a proxy
 * that loads them on first use (commander requires child_process, and with it net and streams,
 * only to run a subcommand from another executable, which fk never does).
 */
const DEFERRED = new Set(['child_process', 'node:child_process']);

type ModuleInternals = typeof NodeModule & {
  _cache: Record<string, NodeModule>;
  _load(request: string, parent: NodeModule | null, isMain: boolean): unknown;
  _nodeModulePaths(dir: string): string[];
  _resolveFilename(request: string, parent: NodeModule, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: NodeModule): string[] | null;
};

/**
 * Node's module class: this module's own `module` is one, so the public `node:module` built-in
 * (~0.3 ms to load at start-up) is required only where `module` is not Node's (a test runner's).
 */
const Module: ModuleInternals =
  typeof module.constructor === 'function' && '_load' in module.constructor
    ? (module.constructor as ModuleInternals)
    : (require('node:module') as ModuleInternals);

function deferred(id: string): unknown {
  let real: Record<string | symbol, unknown> | undefined;
  const get = (): Record<string | symbol, unknown> => (real ??= require(id) as Record<string | symbol, unknown>);
  return new Proxy(
    {},
    {
      get: (_, key) => get()[key],
      has: (_, key) => key in get(),
      ownKeys: () => Reflect.ownKeys(get()),
      getOwnPropertyDescriptor: (_, key) => {
        const d = Object.getOwnPropertyDescriptor(get(), key);
        return d === undefined ? undefined : { ...d, configurable: true };
      },
    },
  );
}

/** The pack in `dir`, or null when there is none (or it cannot be read). */
export function openStartupPack(dir: string): StartupPack | null {
  const packPath = `${dir}${sep}${PACK_FILE}`;
  let buf: Buffer;
  let packTime: number;
  let manifest: Manifest;
  let bodyAt: number;
  try {
    packTime = statSync(packPath).mtimeMs;
    buf = readFileSync(packPath);
    const nl = buf.indexOf(0x0a);
    manifest = JSON.parse(buf.toString('utf8', 0, nl)) as Manifest;
    if (manifest.format !== 3) return null;
    bodyAt = nl + 1;
  } catch {
    return null;
  }
  const mods = manifest.modules;
  // plain concatenation where the path has no `..` (path.resolve on every module would soon be
  // hot enough for V8 to optimise it in the background, which the exit then waits for)
  const filenames = mods.map((m) => (m.file.startsWith('.') ? resolve(dir, m.file) : `${dir}${sep}${m.file}`));
  const cached = readCodeCache(`${dir}${sep}${CACHE_FILE}`, manifest);
  const scripts: Array<Script | undefined> = [];
  const texts: Array<string | undefined> = [];
  function textOf(k: 0 | 1): string {
    const [a, b, c] = manifest.texts;
    return (texts[k] ??=
      k === 0 ? buf.toString('latin1', bodyAt + a, bodyAt + b) : buf.toString('utf16le', bodyAt + b, bodyAt + c));
  }
  /** Per module: true when its file is the one packed (checked on first use). */
  const current: Array<boolean | undefined> = [];

  /** `module.paths` (where a bare `require` looks) of a folder, computed once per folder. */
  const pathsOf = new Map<string, readonly string[]>();
  function nodeModulePaths(folder: string): string[] {
    let paths = pathsOf.get(folder);
    if (paths === undefined) pathsOf.set(folder, (paths = Module._nodeModulePaths(folder)));
    return [...paths];
  }

  function isCurrent(i: number): boolean {
    const known = current[i];
    if (known !== undefined) return known;
    let st: Stats | undefined;
    try {
      st = statSync(filenames[i] as string, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    const ok = st !== undefined && st.size === (mods[i] as PackedModule).size && st.mtimeMs <= packTime;
    current[i] = ok;
    return ok;
  }

  function compile(i: number): (...args: unknown[]) => void {
    const m = mods[i] as PackedModule;
    // a slice of the text: one with only ASCII text stays a one-byte string
    const source = textOf(m.text).slice(m.from, m.to);
    const data = cached?.[i];
    const script = new Script(source, {
      filename: filenames[i] as string,
      ...(data ? { cachedData: data } : {}),
    });
    scripts[i] = script;
    return script.runInThisContext() as (...args: unknown[]) => void;
  }

  function makeRequire(mod: NodeModule, requires: Readonly<Record<string, number>>): NodeJS.Require {
    const req = ((id: string): unknown => {
      const i = requires[id];
      if (i !== undefined && isCurrent(i)) return load(i, mod);
      if (DEFERRED.has(id)) return deferred(id);
      return mod.require(id);
    }) as NodeJS.Require;
    const resolveFn = ((request: string, options?: unknown) =>
      Module._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
    resolveFn.paths = (request: string) => Module._resolveLookupPaths(request, mod);
    req.resolve = resolveFn;
    req.main = require.main;
    req.cache = Module._cache;
    req.extensions = require.extensions;
    return req;
  }

  function load(i: number, parent: NodeModule | undefined): unknown {
    const filename = filenames[i] as string;
    const known = Module._cache[filename];
    if (known !== undefined) return known.exports;
    const mod = new Module(filename, parent);
    const dir = dirname(filename);
    mod.filename = filename;
    mod.paths = nodeModulePaths(dir);
    Module._cache[filename] = mod;
    let ok = false;
    try {
      compile(i).call(
        mod.exports,
        mod.exports,
        makeRequire(mod, (mods[i] as PackedModule).requires),
        mod,
        filename,
        dir,
      );
      ok = true;
    } finally {
      if (!ok) delete Module._cache[filename];
    }
    mod.loaded = true;
    return mod.exports;
  }

  return {
    load(path) {
      const i = mods.findIndex((m) => m.file === path);
      return i < 0 || !isCurrent(i) ? null : load(i, require.main);
    },
    writeCodeCache() {
      const parts = scripts.map((s) => (s ? s.createCachedData() : Buffer.alloc(0)));
      const head = Buffer.from(`${JSON.stringify({ id: manifest.id, sizes: parts.map((p) => p.length) })}\n`);
      writeFileSync(resolve(dir, CACHE_FILE), Buffer.concat([head, ...parts]));
    },
  };
}

/** The code cache of each module of `manifest` (by index), or null when there is none for this pack. */
function readCodeCache(path: string, manifest: Manifest): Array<Buffer | undefined> | null {
  try {
    const buf = readFileSync(path);
    const nl = buf.indexOf(0x0a);
    const head = JSON.parse(buf.toString('utf8', 0, nl)) as { id: string; sizes: number[] };
    if (head.id !== manifest.id || head.sizes.length !== manifest.modules.length) return null;
    let at = nl + 1;
    return head.sizes.map((n) => {
      const part = n > 0 ? buf.subarray(at, at + n) : undefined;
      at += n;
      return part;
    });
  } catch {
    return null;
  }
}
