import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { generateHistory } from '../support/generate';

beforeAll(assertBuilt);

/**
 * fk with a warm snapshot (read on demand) against fk replaying the whole file, on the same file:
 * every view the same, and write commands reaching deep into the history (its first backlogs,
 * whose segments a warm command has not read) accepted or refused alike.
 */
describe('fk on a history with a warm snapshot', () => {
  let sb: ReturnType<typeof sandbox>;
  let file: string;
  let run: (cache: string, args: string[]) => SpawnSyncReturns<string>;
  beforeEach(() => {
    sb = sandbox();
    file = join(sb.dir, 'history.txt');
    run = (cache, args) =>
      spawnSync(process.execPath, [FK, '--file', file, ...args], {
        env: { ...sb.env, XDG_CACHE_HOME: join(sb.dir, cache) },
        encoding: 'utf8',
        timeout: 60_000,
      });
  });
  afterEach(() => sb.cleanup());

  const warm = (...args: string[]): SpawnSyncReturns<string> => run('warm', args);
  /** No snapshot: a fresh cache each time. */
  const cold = (...args: string[]): SpawnSyncReturns<string> => {
    rmSync(join(sb.dir, 'cold'), { recursive: true, force: true });
    return run('cold', args);
  };
  /** What a command showed, without the times that move between two runs. */
  const shown = (r: SpawnSyncReturns<string>): string =>
    `${r.status} ${r.stdout.replace(/"(remainingSeconds|elapsedSeconds)": [\d.]+/g, '"$1": _')} ${r.stderr}`;
  const views = [
    ['status', '--json'],
    ['backlog', 'list'],
    ['workitem', 'list', '--json'],
  ];

  it('shows what a full replay shows, before and after writes into old and new backlogs', () => {
    const lines = generateHistory(6000, 3);
    writeFileSync(file, `${lines.join('\n')}\n`);
    expect(warm('status').status).toBe(0);
    const snapshots = join(sb.dir, 'warm', 'flowkeeper-headless', 'snapshots');
    expect(readdirSync(snapshots).filter((f) => f.endsWith('.snap'))).toHaveLength(1);
    for (const v of views) expect(shown(warm(...v))).toBe(shown(cold(...v)));

    const uids = (name: string): string[] =>
      lines.filter((x) => x.includes(`: ${name}("`)).map((l) => /\("([^"]+)"/.exec(l)?.[1] as string);
    const completed = new Set(uids('CompleteWorkitem'));
    const open = uids('CreateWorkitem').filter((w) => !completed.has(w));
    const sealed = uids('CreateWorkitem').filter((w) => completed.has(w));
    const writes = [
      ['backlog', 'create', 'Lazy'],
      ['workitem', 'add', 'Lazy', 'Lazy item', '--pomodoros', '2'],
      ['workitem', 'rename', open[1] as string, 'Renamed early item'],
      ['workitem', 'move', open[2] as string, 'Lazy'],
      ['backlog', 'rename', uids('CreateBacklog')[1] as string, 'Renamed early backlog'],
      ['start', 'Lazy item', '--work', '25m', '--rest', '5m'],
    ];
    for (const w of writes) {
      expect([w.join(' '), warm(...w).status]).toEqual([w.join(' '), 0]);
      for (const v of views) expect(shown(warm(...v))).toBe(shown(cold(...v)));
    }
    // refused alike (a refused action appends nothing, so it can run on both)
    for (const w of [
      ['workitem', 'rename', sealed[0] as string, 'Renamed sealed item'],
      ['workitem', 'complete', 'no-such-item'],
    ]) {
      const r = warm(...w);
      expect(r.status).toBe(3);
      expect(shown(r)).toBe(shown(cold(...w)));
    }
    expect(cold('check').status).toBe(0);
    expect(existsSync(snapshots)).toBe(true);
  });
});
