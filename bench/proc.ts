import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sharedDir } from '../test/support/shared';

/** What one whole process cost, measured from outside (wall) and by its own probe (the rest). */
export interface ProcessCost {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
  /** Program and dependency files loaded (node processes only). */
  readonly modules?: number;
  /** Node built-in modules loaded (node processes only). */
  readonly builtins?: number;
}

/** The repository root (bench code runs from build/bench). */
export const ROOT = resolve(__dirname, '..', '..');
/** The built `fk` command. */
export const FK = join(ROOT, 'dist', 'cli', 'main.js');

const PROBE = join(__dirname, 'probe.js');

/** Python wrapper: runs a script like `python3 script args…` and reports its own cost at exit. */
const PY_PROBE = [
  'import atexit, json, os, resource, runpy, sys',
  'def _report():',
  '    r = resource.getrusage(resource.RUSAGE_SELF)',
  "    with open(os.environ['FK_BENCH_PROBE'], 'w') as f:",
  "        f.write(json.dumps({'maxRssKb': r.ru_maxrss, 'cpuMs': (r.ru_utime + r.ru_stime) * 1000}))",
  'atexit.register(_report)',
  'sys.argv = sys.argv[1:]',
  "runpy.run_path(sys.argv[0], run_name='__main__')",
].join('\n');

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Where stdout goes (a file); default /dev/null. */
  readonly stdoutFile?: string;
  /** Exit codes that count as success. @default [0] */
  readonly okCodes?: readonly number[];
  readonly cwd?: string;
}

const probeDir = mkdtempSync(join(tmpdir(), 'fk-bench-probe-'));
process.on('exit', () => rmSync(probeDir, { recursive: true, force: true }));
let probes = 0;

async function measure(cmd: string, args: readonly string[], opts: RunOptions): Promise<ProcessCost> {
  const probe = join(probeDir, `p${++probes}.json`);
  const out = openSync(opts.stdoutFile ?? '/dev/null', 'w');
  let stderr = '';
  const t0 = performance.now();
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', out, 'pipe'],
      env: { ...process.env, ...opts.env, FK_BENCH_PROBE: probe },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    child.on('error', fail);
    child.on('close', (c) => done(c));
  });
  const wallMs = performance.now() - t0;
  closeSync(out);
  if (code === null || !(opts.okCodes ?? [0]).includes(code)) {
    throw new Error(`${[cmd, ...args].join(' ').slice(0, 200)} exited ${code}: ${stderr.trim().slice(0, 500)}`);
  }
  const p = JSON.parse(readFileSync(probe, 'utf8')) as {
    maxRssKb: number;
    cpuMs: number;
    modules?: number;
    builtins?: number;
  };
  rmSync(probe, { force: true });
  return {
    wallMs,
    cpuMs: p.cpuMs,
    maxRssMb: p.maxRssKb / 1024,
    ...(p.modules !== undefined ? { modules: p.modules } : {}),
    ...(p.builtins !== undefined ? { builtins: p.builtins } : {}),
  };
}

/** Runs a Node script (or `-e code`) as a whole process with the probe preloaded. */
export function runNode(args: readonly string[], opts: RunOptions = {}): Promise<ProcessCost> {
  return measure(process.execPath, ['--require', PROBE, ...args], opts);
}

/**
 * The node flags on the `fk` bin's shebang (`#!/usr/bin/env -S node <flags>`), which a user's `fk`
 * runs with: the bench passes them too, so it measures the process users get.
 */
export function fkNodeFlags(): string[] {
  const first = readFileSync(FK, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env -S node((?: --?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  if (m === null && first !== '#!/usr/bin/env node') throw new Error(`bench: unexpected shebang in ${FK}: ${first}`);
  return (m?.[1] ?? '').split(' ').filter((f) => f !== '');
}

/** Runs `fk <args>` as a whole process, with the node flags its shebang gives it. */
export function runFk(args: readonly string[], opts: RunOptions = {}): Promise<ProcessCost> {
  return runNode([...fkNodeFlags(), FK, ...args], opts);
}

/** Runs `python3 <script> <args>` as a whole process, measured the same way. */
export function runPython(script: string, args: readonly string[], opts: RunOptions = {}): Promise<ProcessCost> {
  return measure('python3', ['-c', PY_PROBE, script, ...args], opts);
}

/**
 * Flowkeeper's own core, as the oracle runs it (`dump_state.py`), or the reason it cannot be
 * measured here (no python3, no reference checkout). FK_BENCH_REFERENCE names another dump_state.py.
 */
export function findReference(): { script: string } | { missing: string } {
  const script = process.env.FK_BENCH_REFERENCE ?? join(sharedDir(ROOT), 'oracle', 'dump_state.py');
  if (!existsSync(script))
    return { missing: `no reference core at ${script} (set FK_BENCH_REFERENCE to its dump_state.py)` };
  const py = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (py.error !== undefined || py.status !== 0) return { missing: 'python3 is not installed' };
  return { script };
}

/** `12.3 ms`, `1.23 s` */
export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`;
}

export function fmtMb(mb: number): string {
  return `${mb.toFixed(0)} MiB`;
}
