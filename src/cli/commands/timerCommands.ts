import type { Command } from 'commander';
import { DomainError, InputError } from '../../core/errors';
import type { User } from '../../core/engine/model';
import { timerAt } from '../../core/notify/timerView';
import { parseDuration, print, resolveWorkitem, userOf, withSession } from '../run';

/** Asks a yes/no question on the terminal (stderr), reading the answer from stdin. */
async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

const STOP_HELP = `
What stopping does depends on where the timer is, as in Flowkeeper (its StopTimer):
  work                the pomodoro is voided: it goes back to planned and its work does not count
  short rest          the pomodoro is voided too, although its work was done: fk asks first on a
                      terminal; elsewhere it refuses unless --yes is given (or let the rest end)
  long break          the break ends; the pomodoro stays completed
  tracker             the tracker stops and is completed
`;

function runningWorkitem(user: User): { uid: string; name: string } {
  const p = user.timer.pomodoro;
  if (p === null || user.timer.state === 'idle')
    throw new DomainError('FK_ILLEGAL_STATE', `no pomodoro is running for '${user.identity}'`);
  return p.workitem;
}

export function register(program: Command): void {
  program
    .command('start')
    .description("start the workitem's next planned pomodoro (or tracker)")
    .argument('<workitem>', 'uid, unique uid prefix, name or unique start of a name')
    .option('--work <duration>', 'work time, e.g. 25m, 1500, 90s', '25m')
    .option('--rest <duration>', 'rest time; 0 starts a long break after the work', '5m')
    .option('--track', 'no pomodoro planned: track unfocused time with a new tracker')
    .action(async (ref: string, opts: { work: string; rest: string; track?: boolean }, cmd: Command) => {
      const work = parseDuration(opts.work, '--work');
      const rest = parseDuration(opts.rest, '--rest');
      if (work <= 0)
        throw new InputError('FK_INPUT_INVALID', `option '--work' must be longer than 0, got '${opts.work}'`);
      await withSession(cmd, async (s, config) => {
        const user = userOf(s.client.view(), config);
        const w = resolveWorkitem(user, ref);
        const running = user.timer.state === 'idle' ? null : user.timer.pomodoro;
        if (running !== null) {
          throw new DomainError(
            'FK_ILLEGAL_STATE',
            `${running.name} of '${running.workitem.name}' is already running: 'fk stop' or 'fk void' it first`,
          );
        }
        let next = w.pomodoros.find((p) => p.state === 'new');
        if (next === undefined && opts.track) {
          await s.client.execute('AddPomodoro', [w.uid, '1', 'tracker']);
          next = w.pomodoros.find((p) => p.state === 'new');
        }
        if (next === undefined) {
          throw new DomainError(
            'FK_ILLEGAL_STATE',
            `workitem '${w.name}' has no planned pomodoro: run 'fk pomodoro add ${w.uid}' or use --track`,
          );
        }
        if (next.type === 'normal') await s.client.execute('StartTimer', [w.uid, String(work), String(rest)]);
        else await s.client.execute('StartTimer', [w.uid, '']);
        print(`${next.name} of '${w.name}' started`);
      });
    });

  program
    .command('stop')
    .description('stop the timer: a pomodoro in its work or short rest is voided; a tracker or long break completes')
    .option('--yes', 'void a pomodoro in its short rest without asking')
    .addHelpText('after', STOP_HELP)
    .action(async (opts: { yes?: boolean }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const now = Date.now() * 1000;
        const user = userOf(s.client.view(now), config);
        runningWorkitem(user);
        const t = timerAt(user, now);
        const what = `${t.pomodoro ?? ''} of '${t.workitem?.name ?? ''}'`;
        if (t.state === 'rest' && !opts.yes) {
          const why = `the work of ${what} is done and it is in its rest: stopping now voids it (Flowkeeper's ` +
            `StopTimer)`;
          if (!(process.stdin.isTTY && process.stderr.isTTY)) {
            throw new InputError('FK_INPUT_INVALID', `${why}; pass --yes to void it, or let the rest end`);
          }
          if (!(await confirm(`${why}. Void it? [y/N] `))) return print('not stopped: the rest goes on');
        }
        await s.client.execute('StopTimer', ['', '']);
        if (t.state === 'work') print(`${what} voided (stopped during its work)`);
        else if (t.state === 'rest') print(`${what} voided (stopped during its rest: its work does not count)`);
        else if (t.state === 'long-break') print(`long break after ${what} ended; the pomodoro stays completed`);
        else print(`tracker ${what} stopped`);
      }),
    );

  program
    .command('void')
    .description('void the running pomodoro, recording why')
    .option('--reason <text>', 'why it was voided', 'Pomodoro voided')
    .action(async (opts: { reason: string }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const w = runningWorkitem(userOf(s.client.view(), config));
        await s.client.execute('AddInterruption', [w.uid, opts.reason, '']);
        await s.client.execute('StopTimer', ['', '']);
      }),
    );

  program
    .command('interrupt')
    .description('record an interruption of the running pomodoro')
    .argument('[reason]', 'what interrupted you', '')
    .option('--duration <duration>', 'how long it lasted, e.g. 2m or 90')
    .action(async (reason: string, opts: { duration?: string }, cmd: Command) => {
      const duration = opts.duration === undefined ? '' : String(parseDuration(opts.duration, '--duration'));
      await withSession(cmd, async (s, config) => {
        const w = runningWorkitem(userOf(s.client.view(), config));
        await s.client.execute('AddInterruption', [w.uid, reason, duration]);
      });
    });
}
