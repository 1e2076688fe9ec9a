import type { Command } from 'commander';
import { InputError } from '../../core/errors';
import type { Micros } from '../../core/clock';
import type { User } from '../../core/engine/model';
import { timerAt } from '../../core/notify/timerView';
import { userTimeZone, type Zone } from '../../tools/timeZone';
import { clock, LEGEND, logTable, markOf, parseSince, pomodoroLog, type LogRow } from '../pomodoroLog';
import { print, printJson, withSession } from '../run';

interface LogFlags {
  since: string;
  until?: string;
  tz?: string;
  json?: boolean;
}

function instantOption(text: string, option: string, now: Micros, zone: Zone): Micros {
  const t = parseSince(text, now, zone);
  if (t === null) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `option '${option}' must be today, yesterday, a count like 7d, 12h or 90m, a date YYYY-MM-DD ` +
        `or an instant with its offset (2026-06-10T09:00:00+02:00), got '${text}'`,
    );
  }
  return t;
}

function summary(rows: readonly LogRow[]): string {
  const completed = rows.filter((r) => r.outcome === 'completed' && r.kind !== 'tracker').length;
  const voided = rows.filter((r) => r.outcome === 'voided').length;
  const work = rows.reduce((n, r) => n + (r.kind === 'tracker' ? 0 : r.workedSeconds), 0);
  const tracked = rows.reduce((n, r) => n + (r.kind === 'tracker' ? r.workedSeconds : 0), 0);
  const interruptions = rows.reduce((n, r) => n + r.interruptions, 0);
  const parts = [`${completed} completed`, `${voided} voided`, `${clock(work)} of work`];
  if (tracked > 0) parts.push(`${clock(tracked)} tracked`);
  parts.push(`${interruptions} interruption${interruptions === 1 ? '' : 's'}`);
  return parts.join(', ');
}

function nowLine(user: User, now: Micros): string | null {
  const t = timerAt(user, now);
  if (t.state === 'idle') return null;
  const what = `${t.pomodoro ?? ''} of '${t.workitem?.name ?? ''}'`;
  if (t.remainingSeconds !== null) return `now: ${t.state} of ${what}, ${clock(t.remainingSeconds)} left`;
  return `now: ${t.state} of ${what}, ${clock(t.elapsedSeconds ?? 0)} so far`;
}

export function register(program: Command): void {
  program
    .command('log')
    .description('the pomodoros (and trackers) that ran, with their times and how each ended')
    .option('--since <when>', 'today, yesterday, 7d, 12h, 90m, YYYY-MM-DD or an ISO instant', '7d')
    .option('--until <when>', 'same forms; runs that started before it (default: now)')
    .option('--tz <zone>', 'IANA time zone of the times shown, e.g. Europe/Paris (default: TZ, else the system zone)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nEach run of a pomodoro is one line: completed, voided (with how long it worked; a voided pomodoro is\n' +
        'planned again and may run once more), or running. "int" counts its interruptions.',
    )
    .action(async (flags: LogFlags, cmd: Command) => {
      const zone = userTimeZone(flags.tz, process.env.TZ);
      await withSession(cmd, async (s, config) => {
        const now = Date.now() * 1000;
        const since = instantOption(flags.since, '--since', now, zone);
        const until = flags.until === undefined ? undefined : instantOption(flags.until, '--until', now, zone);
        const user = s.client.view(now).tenant.users.get(config.user);
        const range = { since, ...(until !== undefined ? { until } : {}), now, zone };
        const rows = user === undefined ? [] : pomodoroLog(user, range);
        if (flags.json) return printJson(rows);
        if (rows.length === 0) return print(`no pomodoro ran since ${flags.since} (${zone.name})`);
        for (const line of logTable(rows)) print(line);
        print(`${rows.length} run${rows.length === 1 ? '' : 's'} (${zone.name}): ${summary(rows)}`);
      });
    });

  program
    .command('today')
    .description("today's pomodoros: what ran and how it ended, what runs now, and the workitems worked on")
    .option('--tz <zone>', 'IANA time zone that decides what "today" is (default: TZ, else the system zone)')
    .option('--json', 'print JSON')
    .action(async (flags: { tz?: string; json?: boolean }, cmd: Command) => {
      const zone = userTimeZone(flags.tz, process.env.TZ);
      await withSession(cmd, async (s, config) => {
        const now = Date.now() * 1000;
        const day = zone.day(now);
        const user = s.client.view(now).tenant.users.get(config.user);
        const rows = user === undefined ? [] : pomodoroLog(user, { since: zone.startOfDay(day), now, zone });
        const touched = new Set(rows.map((r) => r.workitem.uid));
        const running = user?.timer.pomodoro?.workitem;
        if (running !== undefined && user?.timer.state !== 'idle') touched.add(running.uid);
        const workitems = user === undefined ? [] : [...user.workitems.values()].filter((w) => touched.has(w.uid));
        if (flags.json) {
          const timer = user === undefined ? null : timerAt(user, now);
          const marks = (w: (typeof workitems)[number]): string => w.pomodoros.map(markOf).join('');
          const items = workitems.map((w) => ({ uid: w.uid, name: w.name, state: w.state, marks: marks(w) }));
          return printJson({ day, timeZone: zone.name, timer, runs: rows, workitems: items });
        }
        print(`Today, ${day} (${zone.name}): ${summary(rows)}`);
        const current = user === undefined ? null : nowLine(user, now);
        if (current !== null) print(current);
        if (rows.length > 0) {
          print('');
          for (const line of logTable(rows)) print(line);
        }
        if (workitems.length > 0) {
          print('');
          for (const w of workitems) {
            print(`${w.pomodoros.map(markOf).join('') || '-'}  ${w.name}  [${w.backlog.name}]`);
          }
          print(LEGEND);
        }
      });
    });
}
