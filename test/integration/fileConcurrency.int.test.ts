import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FK, assertBuilt, sandbox } from '../support/cli';

beforeAll(assertBuilt);
jest.setTimeout(240_000);

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `fk` without waiting for it, so several processes really run at once. */
function fkAsync(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FK, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const seqOf = (line: string): number => Number(line.split(',')[0]);

describe('concurrent fk writers on one file (issue 11 item 8)', () => {
  let sb: ReturnType<typeof sandbox>;
  let data: string;
  beforeEach(() => {
    sb = sandbox();
    data = join(sb.dir, 'h.txt');
  });
  afterEach(() => sb.cleanup());

  it('every writer that exits 0 is in the history exactly once, and the sequence stays valid', async () => {
    expect(sb.fk('--file', data, 'backlog', 'create', 'seed').status).toBe(0);
    const writers = 8;
    const rounds = 3;
    const ok: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const names = Array.from({ length: writers }, (_, i) => `b-${r}-${i}`);
      const runs = await Promise.all(names.map((n) => fkAsync(sb.env, ['--file', data, 'backlog', 'create', n])));
      runs.forEach((run, i) => {
        if (run.status === 0) ok.push(names[i] as string);
        else expect(run.stderr).toMatch(/^fk: /); // a refusal is allowed, silence is not
      });
    }
    const lines = readFileSync(data, 'utf8').trim().split('\n');
    expect(lines.map(seqOf)).toEqual(lines.map((_, i) => i + 1));
    for (const name of ok) expect(lines.filter((l) => l.includes(`"${name}")`))).toHaveLength(1);
    expect(ok).toHaveLength(writers * rounds);
    expect(sb.fk('--file', data, 'check').status).toBe(0);
  });

  it('a writer never appends to a history that turned invalid while it waited, and says so', async () => {
    expect(sb.fk('--file', data, 'backlog', 'create', 'seed').status).toBe(0);
    const before = readFileSync(data, 'utf8');
    // Writers start against a valid history; one line with a gap lands while they run.
    const runs = Array.from({ length: 4 }, (_, i) =>
      fkAsync(sb.env, ['--file', data, 'backlog', 'create', `late-${i}`]),
    );
    appendFileSync(data, '9, 2026-06-10 12:00:00+00:00, user@local.host: CreateBacklog("b9", "Gap")\n');
    const results = await Promise.all(runs);
    const after = readFileSync(data, 'utf8').trim().split('\n');
    const gap = after.findIndex((l) => l.includes('"Gap"'));
    // Whatever landed before the gap line is fine; nothing may follow it.
    expect(after.slice(gap + 1)).toEqual([]);
    expect(after.slice(0, gap).map(seqOf)).toEqual(after.slice(0, gap).map((_, i) => i + 1));
    expect(after.slice(0, gap).join('\n').startsWith(before.trim())).toBe(true);
    results.forEach((run, i) => {
      const landed = after.some((l) => l.includes(`"late-${i}")`));
      if (run.status === 0) expect(landed).toBe(true);
      else {
        expect(landed).toBe(false);
        expect(run.stderr).toMatch(/^fk: /);
      }
    });
  });
});
