import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHistory } from '../test/support/generate';
import { findReference, fmtMb, fmtMs, runFk, runNode, runPython, type ProcessCost } from './proc';
import { median, paired, round, type BenchResult } from './results';

/** The instant both sides replay at, so they do the same work (dump_state.py's default). */
const NOW = '2030-01-01T00:00:00+00:00';
/** FK_BENCH_BIG=1 adds the 1M-line comparison (the reference needs over 20 minutes of CPU there). */
const BIG = process.env.FK_BENCH_BIG === '1';

const wall = (c: ProcessCost): number => c.wallMs;
const rss = (c: ProcessCost): number => c.maxRssMb;
const medianOf = (cs: readonly ProcessCost[], f: (c: ProcessCost) => number): number => median(cs.map(f));

/**
 * Whole processes against whole processes, A/B interleaved in one run. `startup`: `fk status` on
 * a small file vs a bare `node -e 0` (time, CPU, modules loaded, peak RSS).
 */
export async function runStartupBench(): Promise<BenchResult[]> {
  return inSandbox(async (dir, env) => {
    const small = join(dir, 'h200.txt');
    writeFileSync(small, `${generateHistory(200).join('\n')}\n`);
    return startup(small, env);
  });
}

/**
 * `fk state` vs Flowkeeper's own core (`dump_state.py`, as the oracle runs it) on the same
 * generated file, both printing the canonical state to /dev/null: wall time and peak RSS.
 */
export async function runStateBench(): Promise<BenchResult[]> {
  return inSandbox(stateVsReference);
}

async function inSandbox(run: (dir: string, env: NodeJS.ProcessEnv) => Promise<BenchResult[]>): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fk-bench-proc-'));
  const env = { FK_USER: 'user@local.host', XDG_CACHE_HOME: join(dir, 'cache'), XDG_CONFIG_HOME: join(dir, 'config') };
  try {
    return await run(dir, env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startup(small: string, env: NodeJS.ProcessEnv): Promise<BenchResult[]> {
  const r = await paired(
    12,
    () => runFk(['--file', small, 'status'], { env }),
    () => runNode(['-e', '0'], { env }),
    wall,
  );
  const fk = medianOf(r.a, wall);
  const bare = medianOf(r.b, wall);
  const modules = r.a[0]?.modules ?? Number.NaN;
  const builtins = (r.a[0]?.builtins ?? Number.NaN) - (r.b[0]?.builtins ?? Number.NaN);
  return [
    {
      name: 'start-up: fk status (200-line file) / node -e 0, wall',
      value: round(r.ratio),
      unit: 'x',
      comparison: {
        what: '`fk status`, 200-line file, vs a bare `node -e 0` (wall)',
        fk: fmtMs(fk),
        baseline: fmtMs(bare),
        ratio: round(r.ratio),
        goal: { op: '<=', value: 1.3 },
      },
    },
    { name: 'start-up: fk status wall (median)', value: round(fk, 1), unit: 'ms' },
    {
      name: 'start-up: fk status / node -e 0, cpu',
      value: round(median(r.a.map((a, i) => a.cpuMs / (r.b[i] as ProcessCost).cpuMs))),
      unit: 'x',
    },
    { name: 'start-up: node -e 0 wall (median)', value: round(bare, 1), unit: 'ms' },
    { name: 'start-up: fk status modules loaded (program + dependencies)', value: modules, unit: 'files' },
    { name: 'start-up: fk status built-in modules beyond node -e 0', value: builtins, unit: 'modules' },
    { name: 'start-up: fk status peak RSS', value: round(medianOf(r.a, rss), 0), unit: 'MiB' },
    { name: 'start-up: node -e 0 peak RSS', value: round(medianOf(r.b, rss), 0), unit: 'MiB' },
  ];
}

async function stateVsReference(dir: string, env: NodeJS.ProcessEnv): Promise<BenchResult[]> {
  const ref = findReference();
  const sizes: Array<[number, number]> = [
    [200, 6],
    [30_000, 3],
    // the reference needs 10-40 s of CPU here; three pairs, as one pair swung the ratio by ±10 %
    [100_000, 3],
    ...(BIG ? ([[1_000_000, 1]] as Array<[number, number]>) : []),
  ];
  const out: BenchResult[] = [];
  if ('missing' in ref) {
    out.push({ name: `fk state vs Flowkeeper's core: not measured: ${ref.missing}`, value: Number.NaN, unit: '' });
  }
  for (const [n, pairs] of sizes) {
    const file = join(dir, `h${n}.txt`);
    writeFileSync(file, `${generateHistory(n).join('\n')}\n`);
    const fk = () => runFk(['state', file, '--now', NOW], { env });
    if ('missing' in ref) {
      const c = await fk();
      out.push({ name: `fk state ${n} lines: wall`, value: round(c.wallMs, 0), unit: 'ms' });
      out.push({ name: `fk state ${n} lines: peak RSS`, value: round(c.maxRssMb, 0), unit: 'MiB' });
      continue;
    }
    const r = await paired(pairs, fk, () => runPython(ref.script, [file, '--now', NOW]), wall);
    const memRatio = median(r.a.map((a, i) => a.maxRssMb / (r.b[i] as ProcessCost).maxRssMb));
    const [fkMs, refMs] = [medianOf(r.a, wall), medianOf(r.b, wall)];
    const [fkMb, refMb] = [medianOf(r.a, rss), medianOf(r.b, rss)];
    out.push(
      {
        name: `fk state ${n} lines / reference: wall`,
        value: round(r.ratio, 3),
        unit: 'x',
        comparison: {
          what: `\`fk state\` ${n.toLocaleString('en')} lines vs Flowkeeper's core (wall)`,
          fk: fmtMs(fkMs),
          baseline: fmtMs(refMs),
          ratio: round(r.ratio, 3),
          ...(n === 100_000 ? { goal: { op: '<=' as const, value: 0.05 } } : {}),
        },
      },
      {
        name: `fk state ${n} lines / reference: peak RSS`,
        value: round(memRatio),
        unit: 'x',
        comparison: {
          what: `\`fk state\` ${n.toLocaleString('en')} lines vs Flowkeeper's core (peak RSS)`,
          fk: fmtMb(fkMb),
          baseline: fmtMb(refMb),
          ratio: round(memRatio),
          goal: { op: '<=', value: 1 },
        },
      },
      {
        name: `fk state ${n} lines: cpu (median)`,
        value: round(
          medianOf(r.a, (c) => c.cpuMs),
          0,
        ),
        unit: 'ms',
      },
      {
        name: `reference ${n} lines: cpu (median)`,
        value: round(
          medianOf(r.b, (c) => c.cpuMs),
          0,
        ),
        unit: 'ms',
      },
    );
    rmSync(file, { force: true });
  }
  return out;
}

/**
 * Snapshots: `fk status` on a large history with its snapshot warm, next to `fk status` on an empty
 * file (goal ≤ 1.5x) and to the same command replaying everything (the snapshot folder removed
 * before each run, so it also pays for writing a new one).
 */
export async function runSnapshotBench(): Promise<BenchResult[]> {
  return inSandbox(async (dir, env) => {
    const out: BenchResult[] = [];
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    for (const n of [100_000, ...(BIG ? [1_000_000] : [])]) {
      const file = join(dir, `h${n}.txt`);
      writeFileSync(file, `${generateHistory(n).join('\n')}\n`);
      const warmEnv = { ...env, XDG_CACHE_HOME: join(dir, `warm${n}`) };
      const coldEnv = { ...env, XDG_CACHE_HOME: join(dir, `cold${n}`) };
      await runFk(['--file', file, 'status'], { env: warmEnv }); // takes the snapshot
      const label = `${n.toLocaleString('en')} lines`;
      const vsEmpty = await paired(
        5,
        () => runFk(['--file', file, 'status'], { env: warmEnv }),
        () => runFk(['--file', empty, 'status'], { env }),
        wall,
      );
      const vsCold = await paired(
        n >= 1_000_000 ? 1 : 3,
        () => runFk(['--file', file, 'status'], { env: warmEnv }),
        () => {
          rmSync(join(dir, `cold${n}`), { recursive: true, force: true });
          return runFk(['--file', file, 'status'], { env: coldEnv });
        },
        wall,
      );
      const warmMs = medianOf(vsEmpty.a, wall);
      out.push(
        {
          name: `snapshot: fk status ${n} lines warm / fk status on an empty file, wall`,
          value: round(vsEmpty.ratio),
          unit: 'x',
          comparison: {
            what: `\`fk status\`, ${label}, snapshot warm, vs on an empty file (wall)`,
            fk: fmtMs(warmMs),
            baseline: fmtMs(medianOf(vsEmpty.b, wall)),
            ratio: round(vsEmpty.ratio),
            goal: { op: '<=', value: 1.5 },
          },
        },
        {
          name: `snapshot: fk status ${n} lines warm / cold (full replay + snapshot write), wall`,
          value: round(vsCold.ratio),
          unit: 'x',
          comparison: {
            what: `\`fk status\`, ${label}, snapshot warm vs replaying everything (wall)`,
            fk: fmtMs(medianOf(vsCold.a, wall)),
            baseline: fmtMs(medianOf(vsCold.b, wall)),
            ratio: round(vsCold.ratio),
          },
        },
        {
          name: `snapshot: fk status ${n} lines warm, peak RSS`,
          value: round(medianOf(vsEmpty.a, rss), 0),
          unit: 'MiB',
        },
        {
          name: `snapshot: fk status ${n} lines cold, peak RSS`,
          value: round(medianOf(vsCold.b, rss), 0),
          unit: 'MiB',
        },
      );
      rmSync(file, { force: true });
    }
    return out;
  });
}
