import type { Command } from 'commander';
import { DomainError } from '../../core/errors';
import type { Micros } from '../../core/clock';
import type { Pomodoro, User } from '../../core/engine/model';
import { timerAt, type TimerView } from '../../core/notify/timerView';
import { escapeControl } from '../../app/terminalText';
import { clock } from '../pomodoroLog';
import { print, printJson, userOf, withSession } from '../run';

interface WaitFlags {
  throughRest?: boolean;
  quiet?: boolean;
  json?: boolean;
}

const WAIT_HELP = `
Exit status: 0 when it rang (the work, or with --through-rest the rest, ended at its time; a long
break or tracker stopped), 3 when the pomodoro was voided meanwhile or nothing runs. Records
written elsewhere meanwhile (the desktop app, another fk) are followed, from the moment it logs
'waiting for the pomodoro' (at --log-level info, a JSON line on stderr): a readiness signal.
Example, a status bar: fk wait --quiet && notify-send "Pomodoro done"
`;

function pomodoroOf(user: User, view: TimerView): Pomodoro | undefined {
  if (view.workitem === null) return undefined;
  return user.workitems.get(view.workitem.uid)?.pomodoros.find((p) => p.name === view.pomodoro);
}

/** What ended, from where the pomodoro is now: its work (it rests), or all of it. */
function outcomeOf(first: TimerView, p: Pomodoro | undefined): string {
  if (first.state === 'tracking') return 'tracker finished';
  if (first.state === 'long-break') return 'long break finished';
  return p?.state === 'rest' ? 'work finished' : 'rest finished';
}

function bar(view: TimerView, width = 20): string {
  const total = (view.remainingSeconds ?? 0) + (view.elapsedSeconds ?? 0);
  if (view.remainingSeconds === null || total <= 0) return '';
  const done = Math.min(width, Math.round((width * (view.elapsedSeconds ?? 0)) / total));
  return ` [${'#'.repeat(done)}${'.'.repeat(width - done)}]`;
}

function progressLine(v: TimerView): string {
  const what = `${v.pomodoro ?? ''} of '${v.workitem?.name ?? ''}'`;
  const left =
    v.remainingSeconds !== null ? `${clock(v.remainingSeconds)} left` : `${clock(v.elapsedSeconds ?? 0)} so far`;
  return `${v.state}: ${what}, ${left}${bar(v)}`;
}

export function register(program: Command): void {
  program
    .command('wait')
    .description('wait until the running pomodoro rings (a countdown on a terminal), for scripts and status bars')
    .option('--through-rest', 'a pomodoro in its work: wait for the end of its rest too')
    .option('--quiet', 'no countdown')
    .option('--json', 'print how it ended as JSON')
    .addHelpText('after', WAIT_HELP)
    .action(async (flags: WaitFlags, cmd: Command) =>
      withSession(cmd, async (s, config, logger) => {
        const viewAt = (now: Micros): { user: User; timer: TimerView } => {
          const user = userOf(s.client.view(now), config);
          return { user, timer: timerAt(user, now) };
        };
        const first = viewAt(Date.now() * 1000).timer;
        if (first.state === 'idle') {
          throw new DomainError('FK_ILLEGAL_STATE', `no pomodoro is running for '${config.user}'`);
        }
        const what = `${first.pomodoro ?? ''} of '${first.workitem?.name ?? ''}'`;
        const phases = new Set<string>([first.state]);
        if (flags.throughRest && first.state === 'work') phases.add('rest');
        // From here on a change to the pomodoro, written anywhere, ends the wait (a void: exit 3).
        const waiting = { pomodoro: first.pomodoro, workitem: first.workitem?.uid, state: first.state };
        logger.info(waiting, 'waiting for the pomodoro');
        const tty = process.stderr.isTTY === true && !flags.quiet;
        for (;;) {
          const now = Date.now() * 1000;
          const { user, timer } = viewAt(now);
          const same = timer.pomodoro === first.pomodoro && timer.workitem?.uid === first.workitem?.uid;
          if (!same || !phases.has(timer.state)) {
            if (tty) process.stderr.write('\r\x1b[K');
            const p = pomodoroOf(user, first);
            const voided = p !== undefined && p.type === 'normal' && p.state === 'new';
            const outcome = voided ? 'voided' : outcomeOf(first, p);
            if (flags.json) printJson({ pomodoro: first.pomodoro, workitem: first.workitem, outcome });
            else print(`${outcome}: ${what}`);
            if (voided) process.exitCode = 3;
            return;
          }
          if (tty) process.stderr.write(`\r\x1b[K${escapeControl(progressLine(timer))}`);
          // Wake at the next second, or right at the ring.
          const toRing = timer.remainingSeconds === null ? 1000 : timer.remainingSeconds * 1000 + 5;
          await new Promise((r) => setTimeout(r, Math.max(5, Math.min(1000, toRing))));
        }
      }),
    );
}
