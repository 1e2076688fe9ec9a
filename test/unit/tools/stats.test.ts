import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replay } from '../../../src/core/engine/replay';
import { splitLines } from '../../../src/core/engine/serializer';
import { computeStats, isoWeek, type StatsRow } from '../../../src/tools/stats';
import { parseInstant } from '../../../src/core/engine/time';
import { renderStatsSvg, renderStatsTable, parseOffset, formatDuration } from '../../../src/cli/statsRender';

const NOW = parseInstant('2030-01-01T00:00:00Z') as number;
const tenantOf = (path: string): ReturnType<typeof replay>['tenant'] =>
  replay(splitLines(readFileSync(path, 'utf8')), { now: NOW }).tenant;
const HAND = join(__dirname, '../../fixtures/tools/stats-hand.txt');
const ALICE = 'alice@example.org';
const figures = (r: StatsRow | undefined): Omit<StatsRow, 'key' | 'label'> | undefined => {
  if (!r) return undefined;
  const { key: _k, label: _l, ...rest } = r;
  return rest;
};

/**
 * The hand fixture, worked out by hand (UTC):
 * - 2026-06-14 (Sunday, 2026-W24): w1 pomodoros 1 and 2 finish (1500 s + 1200 s of work), one
 *   interruption ("Phone"), pomodoro 3 voided after 10 minutes; w2's tracker runs 23:52-00:22 (1800 s).
 * - 2026-06-15 (Monday, 2026-W25): w2's long-break pomodoro finishes (1500 s); the next one is
 *   interrupted ("Colleague") and voided by CompleteWorkitem, which adds no interruption of its own
 *   because w2 has a tracker pomodoro (Flowkeeper's rule);
 *   w3's pomodoro finishes, but w3 is deleted, so it does not count.
 */
describe('computeStats on a hand-computed history', () => {
  const tenant = tenantOf(HAND);

  it('counts per day', () => {
    const s = computeStats(tenant, { user: ALICE });
    expect(s.days.map((d) => d.key)).toEqual(['2026-06-14', '2026-06-15']);
    expect(figures(s.days[0])).toEqual({
      pomodoros: 2,
      focusSeconds: 2700,
      trackers: 1,
      trackedSeconds: 1800,
      interruptions: 1,
      voided: 1,
    });
    expect(figures(s.days[1])).toEqual({
      pomodoros: 1,
      focusSeconds: 1500,
      trackers: 0,
      trackedSeconds: 0,
      interruptions: 1,
      voided: 1,
    });
    expect(figures(s.total)).toEqual({
      pomodoros: 3,
      focusSeconds: 4200,
      trackers: 1,
      trackedSeconds: 1800,
      interruptions: 2,
      voided: 2,
    });
  });

  it('counts per ISO week (Sunday and Monday fall in different weeks)', () => {
    const s = computeStats(tenant, { user: ALICE });
    expect(s.weeks.map((w) => [w.key, w.pomodoros, w.focusSeconds])).toEqual([
      ['2026-W24', 2, 2700],
      ['2026-W25', 1, 1500],
    ]);
  });

  it('counts per tag and per category', () => {
    const s = computeStats(tenant, { user: ALICE });
    expect(s.tags.map((t) => [t.label, figures(t)])).toEqual([
      ['#work', { pomodoros: 3, focusSeconds: 4200, trackers: 1, trackedSeconds: 1800, interruptions: 2, voided: 2 }],
      ['#study', { pomodoros: 1, focusSeconds: 1500, trackers: 1, trackedSeconds: 1800, interruptions: 1, voided: 1 }],
    ]);
    expect(s.categories.map((c) => [c.key, c.label, c.pomodoros, c.focusSeconds])).toEqual([
      ['#wg_MSW_M', 'I must...', 2, 2700],
    ]);
  });

  it('cuts days in the given UTC offset (the tracker started at 01:52 on Monday in UTC+02:00)', () => {
    const s = computeStats(tenant, { user: ALICE, utcOffsetMinutes: 120 });
    expect(s.days.map((d) => [d.key, d.pomodoros, d.trackers])).toEqual([
      ['2026-06-14', 2, 0],
      ['2026-06-15', 1, 1],
    ]);
  });

  it('filters by date, inclusive, and fills quiet days with zeros', () => {
    const monday = computeStats(tenant, { user: ALICE, from: '2026-06-15' });
    expect(figures(monday.total)).toEqual({
      pomodoros: 1,
      focusSeconds: 1500,
      trackers: 0,
      trackedSeconds: 0,
      interruptions: 1,
      voided: 1,
    });
    const range = computeStats(tenant, { user: ALICE, from: '2026-06-13', to: '2026-06-16' });
    expect(range.days.map((d) => [d.key, d.pomodoros])).toEqual([
      ['2026-06-13', 0],
      ['2026-06-14', 2],
      ['2026-06-15', 1],
      ['2026-06-16', 0],
    ]);
  });

  it('rejects bad dates, offsets and unknown users with FK_INPUT_INVALID', () => {
    expect(() => computeStats(tenant, { user: ALICE, from: '2026-02-30' })).toThrow(
      expect.objectContaining({ code: 'FK_INPUT_INVALID' }),
    );
    expect(() => computeStats(tenant, { user: ALICE, utcOffsetMinutes: 20 * 60 })).toThrow(
      expect.objectContaining({ code: 'FK_INPUT_INVALID' }),
    );
    expect(() => computeStats(tenant, { user: 'bob@example.org' })).toThrow(
      expect.objectContaining({ code: 'FK_INPUT_INVALID' }),
    );
  });

  it('renders a table and a well-formed SVG bar chart', () => {
    const s = computeStats(tenant, { user: ALICE });
    const table = renderStatsTable(s);
    expect(table).toContain('2026-06-14          2   0:45         1     0:30              1       1');
    const svg = renderStatsSvg(s);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<rect [^>]*fill="#d9534f"/g)).toHaveLength(2);
    expect(svg).toContain('<title>2026-06-14: 2</title>');
    expect(renderStatsSvg(s, 'focus')).toContain('<title>2026-06-15: 0.4</title>');
  });
});

describe('stats helpers', () => {
  it.each([
    ['2026-01-01', '2026-W01'],
    ['2025-12-29', '2026-W01'],
    ['2027-01-01', '2026-W53'],
    ['2024-12-30', '2025-W01'],
    ['2021-01-03', '2020-W53'],
    ['2026-06-14', '2026-W24'],
  ])('ISO week of %s is %s', (date, week) => {
    expect(isoWeek(date)).toBe(week);
  });

  it('parses and formats offsets and durations', () => {
    expect(parseOffset('+02:00')).toBe(120);
    expect(parseOffset('-0530')).toBe(-330);
    expect(parseOffset('Z')).toBe(0);
    expect(parseOffset('2')).toBeNull();
    expect(formatDuration(4200)).toBe('1:10');
  });
});

describe('computeStats on the shared fixture-random (spot checks against the oracle state)', () => {
  const oracle = join(__dirname, '../../fixtures/oracle');
  const tenant = tenantOf(join(oracle, 'fixture-random.txt'));
  const expected = JSON.parse(readFileSync(join(oracle, 'fixture-random.expected.json'), 'utf8')) as {
    users: Array<{
      identity: string;
      backlogs: Array<{
        workitems: Array<{
          name: string;
          pomodoros: Array<{ type: string; state: string; work_duration: number; interruptions: unknown[] }>;
        }>;
      }>;
    }>;
  };
  const pomodoros = expected.users
    .filter((u) => u.identity === 'user@local.host')
    .flatMap((u) =>
      u.backlogs.flatMap((b) => b.workitems.flatMap((w) => w.pomodoros.map((p) => ({ ...p, workitem: w.name })))),
    );

  it('totals match what the oracle state holds', () => {
    const s = computeStats(tenant, { user: 'user@local.host' });
    const done = pomodoros.filter((p) => p.type === 'normal' && p.state === 'finished');
    expect(s.total.pomodoros).toBe(done.length);
    expect(s.total.focusSeconds).toBe(done.reduce((n, p) => n + p.work_duration, 0));
    expect(s.total.trackers).toBe(pomodoros.filter((p) => p.type !== 'normal' && p.state === 'finished').length);
    expect(s.total.interruptions).toBe(pomodoros.reduce((n, p) => n + p.interruptions.length, 0));
    expect(s.days.reduce((n, d) => n + d.pomodoros, 0)).toBe(s.total.pomodoros);
    expect(s.weeks.reduce((n, w) => n + w.focusSeconds, 0)).toBe(s.total.focusSeconds);
  });

  it('a tag counts exactly the pomodoros of the workitems named with it', () => {
    const s = computeStats(tenant, { user: 'user@local.host' });
    const beta = pomodoros.filter((p) => /#beta\b/i.test(p.workitem) && p.type === 'normal' && p.state === 'finished');
    expect(s.tags.find((t) => t.key === 'beta')?.pomodoros).toBe(beta.length);
  });
});
