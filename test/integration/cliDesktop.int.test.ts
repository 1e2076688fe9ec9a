import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { desktopLine } from '../support/desktopWriter';

/**
 * The CLI a desktop user expects (issue 13 §2), with the built CLI on real history files:
 * categories, reordering, the user's name, the pomodoro log and today's view, stop during a rest,
 * fk wait, and statistics cut in the user's time zone. Histories are written the way the desktop
 * app writes them, stamped in the past where a test needs a pomodoro that already ran.
 */
jest.setTimeout(120_000);

const USER = 'user@local.host';
const MIN = 60_000;
let box: ReturnType<typeof sandbox>;
let file: string;
beforeAll(assertBuilt);
beforeEach(() => {
  box = sandbox();
  file = join(box.dir, 'flowkeeper-data.txt');
});
afterEach(() => box.cleanup());

function fk(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [FK, '--file', file, ...args], {
    env: { ...box.env, TZ: 'UTC', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}
function ok(args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const r = fk(args, env);
  if (r.status !== 0) throw new Error(`fk ${args.join(' ')} exited ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
}
/** A history of `lines` (params per record, stamped at the given ms), numbered from 1. */
function history(records: ReadonlyArray<readonly [number, string, ...string[]]>): void {
  const lines = [
    desktopLine(1, (records[0]?.[0] ?? Date.now()) - MIN, 'admin@local.host', 'CreateUser', [USER, 'User']),
  ];
  records.forEach(([ms, name, ...params], i) => lines.push(desktopLine(i + 2, ms, USER, name, params)));
  writeFileSync(file, `${lines.join('\n')}\n`);
}
const planned = (t: number): Array<[number, string, ...string[]]> => [
  [t, 'CreateBacklog', 'b1', 'Today'],
  [t, 'CreateWorkitem', 'w1', 'b1', 'Write the report'],
  [t, 'AddPomodoro', 'w1', '3'],
];

describe('categories', () => {
  it('creates, lists, renames, reorders, assigns and deletes them', () => {
    ok(['backlog', 'create', 'Today']);
    ok(['workitem', 'add', 'Today', 'Report']);
    expect(ok(['category', 'create', 'Work', '--id', 'c-work']).trim()).toBe('c-work');
    ok(['category', 'create', 'Deep', '--parent', 'Work', '--id', 'c-deep']);
    ok(['category', 'create', 'Home', '--id', 'c-home']);
    const tree = ok(['category', 'list']).split('\n');
    // after Flowkeeper's built-in groups
    expect(tree.filter((l) => /c-/.test(l))).toEqual(['Work  [c-work]', '  Deep  [c-deep]', 'Home  [c-home]']);
    expect(tree).toContain('Item Groups  [#workitem_groups] built-in');

    ok(['category', 'reorder', 'Home', '1']); // first, before the built-in groups
    ok(['category', 'rename', 'c-deep', 'Deep work']);
    ok(['category', 'assign', 'Report', '--add', 'Deep work,Home']);
    const json = JSON.parse(ok(['category', 'list', '--json'])) as Array<{
      uid: string;
      name: string;
      parent: string;
      workitems: number;
    }>;
    expect(json[0]).toEqual(expect.objectContaining({ uid: 'c-home' }));
    expect(json.filter((c) => c.uid.startsWith('c-'))).toEqual([
      expect.objectContaining({ uid: 'c-home', parent: '#root', workitems: 1 }),
      expect.objectContaining({ uid: 'c-work', workitems: 0 }),
      expect.objectContaining({ uid: 'c-deep', name: 'Deep work', parent: 'c-work', workitems: 1 }),
    ]);
    expect(ok(['category', 'assign', 'Report'])).toBe('Deep work  [c-deep]\nHome  [c-home]\n');
    expect(fk(['category', 'assign', 'Report', '--add', 'Home'])).toMatchObject({
      status: 3,
      stderr: "fk: workitem 'Report' already has c-home\n",
    });
    ok(['category', 'assign', 'Report', '--remove', 'Home']);
    ok(['category', 'delete', 'Work']); // and Deep work under it: the workitem loses it
    expect(ok(['category', 'assign', 'Report'])).toBe('(no categories)\n');
    expect(readFileSync(file, 'utf8')).toMatch(/UpdateWorkitemCategories\("[^"]+", "", "c-deep;c-home"\)/);
  });

  it('refuses the root, unknown categories and empty names', () => {
    ok(['backlog', 'create', 'Today']);
    expect(fk(['category', 'rename', '#root', 'x'])).toMatchObject({
      status: 3,
      stderr: 'fk: the root category cannot be renamed\n',
    });
    expect(fk(['category', 'delete', 'Nope'])).toMatchObject({
      status: 3,
      stderr: expect.stringMatching(/^fk: category 'Nope' not found/),
    });
    expect(fk(['category', 'create', ' '])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^fk: category name must not be empty/),
    });
    expect(fk(['category', 'reorder', 'Item Groups', '9'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^fk: category position must be at most/),
    });
  });
});

describe('reordering and the user', () => {
  it('moves backlogs and workitems to a position, and renames the user', () => {
    for (const b of ['A', 'B', 'C']) ok(['backlog', 'create', b]);
    ok(['backlog', 'reorder', 'C', '1']);
    ok(['backlog', 'reorder', 'A', '3']);
    expect(
      ok(['backlog', 'list'])
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('  ')[1]),
    ).toEqual(['C', 'B', 'A']);
    for (const w of ['one', 'two', 'three']) ok(['workitem', 'add', 'A', w]);
    ok(['workitem', 'reorder', 'three', '2']);
    expect(
      ok(['workitem', 'list', 'A'])
        .split('\n')
        .filter((l) => l.includes('[new]'))
        .map((l) => l.split('] ')[1]),
    ).toEqual(['one ', 'three ', 'two ']);
    expect(fk(['workitem', 'reorder', 'one', '0'])).toMatchObject({
      status: 2,
      stderr: "fk: workitem position must be a positive integer, got '0'\n",
    });
    ok(['user', 'rename', 'Alice Liddell']);
    expect(ok(['user', 'show'])).toBe('Alice Liddell <user@local.host>: 3 backlogs, 3 workitems\n');
    expect(fk(['user', 'rename', ''])).toMatchObject({ status: 2 });
  });
});

describe('what ran', () => {
  it('fk workitem list shows a pomodoro that rang minutes ago as done, a voided one apart, and a legend', () => {
    const t = Date.now() - 60 * MIN;
    history([
      ...planned(t),
      [t + MIN, 'StartTimer', 'w1', '60', '60'], // voided below, in its work
      [t + MIN + 30_000, 'StopTimer', '', ''],
      [t + 2 * MIN, 'StartTimer', 'w1', '1500', '300'], // rang 28 minutes ago, rest over 23 minutes ago
      [t + 33 * MIN, 'StartTimer', 'w1', '60', '60'], // Pomodoro 2, voided in its work
      [t + 33 * MIN + 10_000, 'StopTimer', '', ''],
    ]);
    const out = ok(['workitem', 'list']);
    expect(out).toBe(
      'w1  [running] Write the report x~o\nmarks: o planned  * running  x completed  ~ voided (planned again)\n',
    );
    const json = JSON.parse(ok(['workitem', 'list', '--json'])) as Array<{
      pomodoros: Array<{ state: string; voided: boolean }>;
    }>;
    expect(json[0]?.pomodoros.map((p) => [p.state, p.voided])).toEqual([
      ['finished', false],
      ['new', true],
      ['new', false],
    ]);

    // The last record is the start of a pomodoro whose rest ended 10 minutes ago: nothing since.
    const u = Date.now() - 40 * MIN;
    history([...planned(u), [u, 'StartTimer', 'w1', '1500', '300']]);
    expect(ok(['workitem', 'list']).split('\n')[0]).toBe('w1  [running] Write the report xoo');
    expect(ok(['status'])).toBe('idle\n');
  });

  it('fk log lists each run with its times in the time zone, completed and voided apart; --json too', () => {
    const t = Date.parse('2026-06-14T21:00:00Z');
    history([
      ...planned(t),
      [t + 10 * MIN, 'StartTimer', 'w1', '1500', '300'], // 21:10-21:40 UTC, 23:10-23:40 in Paris
      [t + 90 * MIN, 'StartTimer', 'w1', '1500', '300'], // 22:30 UTC = 00:30 on the 15th in Paris
      [t + 90 * MIN, 'AddInterruption', 'w1', 'phone', ''],
      [t + 100 * MIN, 'StopTimer', '', ''],
    ]);
    const range = ['--since', '2026-06-14', '--until', '2026-06-16'];
    const table = ok(['log', ...range, '--tz', 'Europe/Paris']).split('\n');
    expect(table[0]).toMatch(/^when +outcome +pomodoro +int +workitem$/);
    expect(table[1]).toMatch(/^2026-06-14 23:10-23:40 +completed +Pomodoro 1 +0 +Write the report$/);
    expect(table[2]).toMatch(/^2026-06-15 00:30-00:40 +voided after 10:00 +Pomodoro 2 +1 +Write the report$/);
    expect(table[3]).toBe('2 runs (Europe/Paris): 1 completed, 1 voided, 35:00 of work, 1 interruption');
    const rows = JSON.parse(ok(['log', ...range, '--json'])) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.day, r.start, r.outcome, r.workedSeconds])).toEqual([
      ['2026-06-14', '21:10', 'completed', 1500],
      ['2026-06-14', '22:30', 'voided', 600],
    ]);
    expect(
      ok(['log', '--since', '2026-06-15', '--until', '2026-06-16', '--tz', 'Europe/Paris']).split('\n'),
    ).toHaveLength(4);
    expect(fk(['log', '--since', 'last tuesday'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^fk: option '--since' must be today, yesterday/),
    });
  });

  it("fk today shows today's runs in the user's zone, what runs now, and the workitems with a legend", () => {
    // A zone where it is around noon now, so "an hour ago" is today there.
    const hour = new Date().getUTCHours();
    const east = 12 - hour; // Etc/GMT-N is N hours east of UTC
    const zone = east === 0 ? 'Etc/GMT' : `Etc/GMT${east > 0 ? '-' : '+'}${Math.abs(east)}`;
    const t = Date.now() - 60 * MIN;
    history([...planned(t), [t, 'StartTimer', 'w1', '1500', '300'], [t + 40 * MIN, 'StartTimer', 'w1', '3000', '300']]);
    const out = ok(['today'], { TZ: zone }).split('\n');
    const escaped = zone.replace(/[+/]/g, (c) => `\\${c}`);
    expect(out[0]).toMatch(
      new RegExp(
        `^Today, \\d{4}-\\d{2}-\\d{2} \\(${escaped}\\): 1 completed, 0 voided, 4\\d:\\d\\d of work, 0 interruptions$`,
      ),
    );
    expect(out[1]).toMatch(/^now: work of Pomodoro 2 of 'Write the report', (29|30):\d\d left$/);
    expect(out).toContain('x*o  Write the report  [Today]');
    expect(out).toContain('marks: o planned  * running  x completed  ~ voided (planned again)');
    const json = JSON.parse(ok(['today', '--json'], { TZ: zone })) as {
      timeZone: string;
      runs: unknown[];
      timer: { state: string };
    };
    expect([json.timeZone, json.runs.length, json.timer.state]).toEqual([zone, 2, 'work']);
  });
});

describe('the timer', () => {
  it('fk stop during a short rest voids the pomodoro only when confirmed, and says so', () => {
    const t = Date.now() - 26 * MIN;
    history([...planned(t), [t, 'StartTimer', 'w1', '1500', '300']]); // in its rest for 4 more minutes
    expect(ok(['stop', '--help'])).toMatch(/short rest +the pomodoro is voided too, although its work was done/);
    const refused = fk(['stop']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(
      "fk: the work of Pomodoro 1 of 'Write the report' is done and it is in its rest: stopping now voids it " +
        "(Flowkeeper's StopTimer); pass --yes to void it, or let the rest end\n",
    );
    expect(readFileSync(file, 'utf8')).not.toMatch(/StopTimer/);
    expect(ok(['stop', '--yes'])).toBe(
      "Pomodoro 1 of 'Write the report' voided (stopped during its rest: its work does not count)\n",
    );
    expect(ok(['workitem', 'list']).split('\n')[0]).toMatch(/~oo$/);
  });

  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  (hasScript ? it : it.skip)('asks on a terminal before voiding a pomodoro in its rest', () => {
    const t = Date.now() - 26 * MIN;
    history([...planned(t), [t, 'StartTimer', 'w1', '1500', '300']]);
    const onTty = (answer: string): string =>
      spawnSync('script', ['-qec', `${process.execPath} ${FK} --file ${file} stop`, '/dev/null'], {
        env: { ...box.env, TZ: 'UTC' },
        input: `${answer}\n`,
        encoding: 'utf8',
        timeout: 60_000,
      }).stdout;
    expect(onTty('n')).toMatch(/Void it\? \[y\/N\][\s\S]*not stopped: the rest goes on/);
    expect(readFileSync(file, 'utf8')).not.toMatch(/StopTimer/);
    expect(onTty('y')).toMatch(/voided \(stopped during its rest/);
    expect(readFileSync(file, 'utf8')).toMatch(/StopTimer/);
  });

  type Exit = { status: number | null; stdout: string; stderr: string };
  /** `fk wait`, its exit, and `ready`: it has its view of the pomodoro and follows the file (its info log says so). */
  const waitFor = (args: readonly string[]): { ready: Promise<void>; exit: Promise<Exit> } => {
    const child = spawn(process.execPath, [FK, '--file', file, '--log-level', 'info', 'wait', ...args], {
      env: { ...box.env, TZ: 'UTC' },
    });
    let stdout = '';
    let stderr = '';
    const exit = new Promise<Exit>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
    const ready = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('"msg":"waiting for the pomodoro"')) resolve();
      });
      void exit.then((r) => reject(new Error(`fk wait exited ${String(r.status)} before waiting: ${r.stderr}`)));
    });
    ready.catch(() => undefined); // reported where awaited
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    return { ready, exit };
  };

  it('fk wait exits 0 when the pomodoro rings', async () => {
    history([...planned(Date.now() - MIN), [Date.now(), 'StartTimer', 'w1', '5', '5']]);
    const r = await waitFor(['--through-rest']).exit;
    expect(r).toMatchObject({ status: 0, stdout: "rest finished: Pomodoro 1 of 'Write the report'\n" });
  });

  it('fk wait exits 3 when the pomodoro is voided meanwhile (by another writer), and when nothing runs', async () => {
    history([...planned(Date.now() - MIN), [Date.now(), 'StartTimer', 'w1', '1500', '300']]);
    const waiting = waitFor(['--json']);
    await waiting.ready; // the desktop app voids it once fk waits
    appendFileSync(file, `${desktopLine(6, Date.now(), USER, 'StopTimer', ['', ''])}\n`);
    const r = await waiting.exit;
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({
      pomodoro: 'Pomodoro 1',
      workitem: { uid: 'w1', name: 'Write the report' },
      outcome: 'voided',
    });
    expect(fk(['wait'])).toMatchObject({ status: 3, stderr: "fk: no pomodoro is running for 'user@local.host'\n" });
  });
});

describe("statistics in the user's time zone", () => {
  it('cuts days in --tz or TZ, and writes only SVG, as wide as its title', () => {
    const t = Date.parse('2026-06-14T22:00:00Z');
    history([...planned(t), [t + 30 * MIN, 'StartTimer', 'w1', '1500', '300']]); // 22:30 UTC, 00:30 in Paris
    const days = (out: string): string[] =>
      (JSON.parse(out) as { days: Array<{ key: string }> }).days.map((d) => d.key);
    expect(days(ok(['stats', '--json'], { TZ: 'UTC' }))).toEqual(['2026-06-14']);
    expect(days(ok(['stats', '--json'], { TZ: 'Europe/Paris' }))).toEqual(['2026-06-15']);
    expect(days(ok(['stats', '--json', '--tz', 'America/New_York'], { TZ: 'Europe/Paris' }))).toEqual(['2026-06-14']);
    expect(ok(['stats'], { TZ: 'Europe/Paris' }).split('\n')[0]).toBe(
      'Statistics of user@local.host (days in Europe/Paris)',
    );
    expect(fk(['stats', '--svg', join(box.dir, 'chart.png')])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^fk: option '--svg' writes an SVG image only/),
    });
    expect(fk(['stats', '--tz', 'Mars/Olympus'])).toMatchObject({ status: 2 });
    ok(['stats', '--svg', join(box.dir, 'chart.svg')]);
    const svg = readFileSync(join(box.dir, 'chart.svg'), 'utf8');
    const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)?.[1]);
    expect(width).toBeGreaterThanOrEqual(56 + 'Completed pomodoros per day: user@local.host'.length * 0.62 * 15);
  });
});
