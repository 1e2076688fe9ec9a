import type { Stats, StatsRow } from '../tools/stats';

/** Text table and SVG chart of `computeStats` results (no dependency: the SVG is written by hand). */

/** Seconds as `h:mm`. */
export function formatDuration(seconds: number): string {
  const m = Math.round(seconds / 60);
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
}

/** `+02:00` from minutes east of UTC. */
export function formatOffset(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Minutes east of UTC from `+02:00`, `-0530`, `Z` or `UTC`. */
export function parseOffset(text: string): number | null {
  if (/^(z|utc)$/i.test(text)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!m) return null;
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -v : v;
}

const COLUMNS: ReadonlyArray<[string, (r: StatsRow) => string]> = [
  ['Pomodoros', (r) => String(r.pomodoros)],
  ['Focus', (r) => formatDuration(r.focusSeconds)],
  ['Trackers', (r) => String(r.trackers)],
  ['Tracked', (r) => formatDuration(r.trackedSeconds)],
  ['Interruptions', (r) => String(r.interruptions)],
  ['Voided', (r) => String(r.voided)],
];

function section(title: string, rows: readonly StatsRow[]): string[] {
  if (rows.length === 0) return [`${title}: none`];
  const width = Math.max(title.length, ...rows.map((r) => r.label.length));
  const head = [title.padEnd(width), ...COLUMNS.map(([h]) => h)].join('  ');
  const body = rows.map((r) => [r.label.padEnd(width), ...COLUMNS.map(([h, f]) => f(r).padStart(h.length))].join('  '));
  return [head, ...body];
}

export function renderStatsTable(s: Stats): string {
  const range = s.from !== null || s.to !== null ? `, ${s.from ?? '…'} .. ${s.to ?? '…'}` : '';
  const out = [
    `Statistics of ${s.user} (days in ${s.timeZone ?? `UTC${formatOffset(s.utcOffsetMinutes)}`}${range})`,
    '',
    ...section('Day', s.days),
    '',
    ...section('ISO week', s.weeks),
    '',
    ...section('Tag', s.tags),
    '',
    ...section('Category', s.categories),
    '',
    ...section('Total', [s.total]),
  ];
  return `${out.join('\n')}\n`;
}

const escapeXml = (t: string): string => t.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A "nice" axis step (1, 2 or 5 × 10^n) giving at most about five gridlines up to `max`. */
function niceStep(max: number): number {
  const raw = Math.max(max, 1) / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= raw) ?? 10 * p;
}

export type SvgMetric = 'pomodoros' | 'focus';

/** Widest average advance of a bold sans-serif character, in em (wide letters and `@` included). */
export const TITLE_EM = 0.62;

/**
 * A bar chart of completed pomodoros (or focus hours) per day, as a standalone SVG document.
 * Only dates and numbers are drawn, plus the user identity in the title (escaped).
 */
export function renderStatsSvg(s: Stats, metric: SvgMetric = 'pomodoros'): string {
  const value = (r: StatsRow): number => (metric === 'focus' ? r.focusSeconds / 3600 : r.pomodoros);
  const days = s.days;
  const bar = Math.max(6, Math.min(40, Math.floor(900 / Math.max(1, days.length)) - 4));
  const gap = Math.max(2, Math.round(bar / 4));
  const left = 56;
  const top = 48;
  const plotH = 240;
  const bottom = 90;
  const title = `${metric === 'focus' ? 'Focus hours' : 'Completed pomodoros'} per day: ${s.user}`;
  // The title (15 px bold) must fit: up to ~0.62 em per character in a sans-serif bold face.
  const titleWidth = Math.ceil(title.length * TITLE_EM * 15);
  const width = Math.max(360, left + days.length * (bar + gap) + 24, left + titleWidth + 24);
  const height = top + plotH + bottom;
  const max = Math.max(0, ...days.map(value));
  const step = niceStep(max);
  const yMax = Math.max(step, Math.ceil(max / step) * step);
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const fmt = (v: number): string => (metric === 'focus' ? v.toFixed(1) : String(v));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="bold" fill="#222">${escapeXml(title)}</text>`,
  ];
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${left}" y1="${yy}" x2="${width - 12}" y2="${yy}" stroke="#e3e3e3"/>`);
    parts.push(
      `<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" ` +
        `fill="#555">${fmt(Number(v.toFixed(6)))}</text>`,
    );
  }
  days.forEach((d, i) => {
    const v = value(d);
    const x = left + gap + i * (bar + gap);
    const yy = y(v);
    parts.push(
      `<rect x="${x}" y="${yy.toFixed(1)}" width="${bar}" height="${(top + plotH - yy).toFixed(1)}" ` +
        `fill="#d9534f"><title>${d.key}: ${fmt(v)}</title></rect>`,
    );
    if (v > 0 && bar >= 14)
      parts.push(
        `<text x="${x + bar / 2}" y="${(yy - 4).toFixed(1)}" text-anchor="middle" fill="#333">${fmt(v)}</text>`,
      );
    const lx = x + bar / 2;
    const ly = top + plotH + 12;
    parts.push(
      `<text x="${lx}" y="${ly}" text-anchor="end" transform="rotate(-45 ${lx} ${ly})" fill="#555">${d.key}</text>`,
    );
  });
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${width - 12}" y2="${top + plotH}" stroke="#888"/>`);
  if (days.length === 0)
    parts.push(`<text x="${left + 8}" y="${top + plotH / 2}" fill="#888">no activity in this range</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
