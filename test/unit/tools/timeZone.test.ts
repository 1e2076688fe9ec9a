import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replay } from '../../../src/core/engine/replay';
import { splitLines } from '../../../src/core/engine/serializer';
import { parseInstant } from '../../../src/core/engine/time';
import { computeStats } from '../../../src/tools/stats';
import { timeZone, userTimeZone } from '../../../src/tools/timeZone';
import { renderStatsSvg, TITLE_EM } from '../../../src/cli/statsRender';

const at = (iso: string): number => parseInstant(iso) as number;

describe('time zones', () => {
  it('gives the wall-clock day, time and offset, daylight saving included', () => {
    const paris = timeZone('Europe/Paris');
    expect(paris.day(at('2026-06-14T22:30:00Z'))).toBe('2026-06-15'); // CEST, UTC+2
    expect(paris.time(at('2026-06-14T22:30:00Z'))).toBe('00:30');
    expect(paris.offsetMinutes(at('2026-06-14T22:30:00Z'))).toBe(120);
    expect(paris.offsetMinutes(at('2026-01-14T22:30:00Z'))).toBe(60); // CET
    expect(paris.day(at('2026-01-14T22:30:00Z'))).toBe('2026-01-14');
    expect(timeZone('Asia/Kathmandu').offsetMinutes(at('2026-01-14T00:00:00Z'))).toBe(345);
  });

  it('finds the first instant of a day, on the days the clocks change too', () => {
    const paris = timeZone('Europe/Paris');
    expect(paris.startOfDay('2026-06-15')).toBe(at('2026-06-14T22:00:00Z'));
    expect(paris.startOfDay('2026-03-29')).toBe(at('2026-03-28T23:00:00Z')); // the day clocks go forward
    expect(paris.startOfDay('2026-10-26')).toBe(at('2026-10-25T23:00:00Z')); // the day after they go back
    // Santiago skips midnight when its clocks go forward (2026-09-06 starts at 01:00)
    const santiago = timeZone('America/Santiago');
    expect(santiago.day(santiago.startOfDay('2026-09-06'))).toBe('2026-09-06');
    expect(santiago.day(santiago.startOfDay('2026-09-06') - 1)).toBe('2026-09-05');
  });

  it('names the option of a zone it does not know, and takes TZ when --tz is absent', () => {
    expect(() => userTimeZone('Mars/Olympus', undefined)).toThrow(
      "option '--tz' must be an IANA time zone like Europe/Paris or UTC, got 'Mars/Olympus'",
    );
    expect(userTimeZone(undefined, 'America/New_York').name).toBe('America/New_York');
    expect(userTimeZone(undefined, ':UTC').name).toBe('UTC');
    expect(() => userTimeZone(undefined, 'Nowhere')).toThrow(/environment variable TZ must be/);
  });
});

describe('fk stats in a time zone', () => {
  const NOW = at('2030-01-01T00:00:00Z');
  const tenant = replay(splitLines(readFileSync(join(__dirname, '../../fixtures/tools/stats-hand.txt'), 'utf8')), {
    now: NOW,
  }).tenant;

  it('cuts days in the zone (the tracker started at 01:52 on Monday in Paris summer time)', () => {
    const s = computeStats(tenant, { user: 'alice@example.org', timeZone: timeZone('Europe/Paris') });
    expect(s.timeZone).toBe('Europe/Paris');
    expect(s.days.map((d) => [d.key, d.pomodoros, d.trackers])).toEqual([
      ['2026-06-14', 2, 0],
      ['2026-06-15', 1, 1],
    ]);
  });

  it('draws an SVG as wide as its title', () => {
    const user = `${'a-very-long-user-name'.repeat(4)}@example.org`;
    const s = computeStats(tenant, { user: 'alice@example.org', from: '2026-06-14', to: '2026-06-14' });
    const svg = renderStatsSvg({ ...s, user });
    const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)?.[1]);
    const title = `Completed pomodoros per day: ${user}`;
    const x = Number(/<text x="(\d+)" y="24"/.exec(svg)?.[1]);
    expect(svg).toContain(`>${title}</text>`);
    expect(x + title.length * TITLE_EM * 15).toBeLessThanOrEqual(width);
  });
});
