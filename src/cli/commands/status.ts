import type { Command } from 'commander';
import { mmss, timerAt } from '../../core/notify/timerView';
import { redactBackend } from '../../app/config';
import { print, printJson, withReadSession, type CommandLike } from '../run';

export function register(program: Command): void {
  program
    .command('status')
    .description('what runs now and how much time is left')
    .option('--json', 'print JSON')
    .action(status);
}

/** `fk status` (also run without commander for its plain forms: quickStatus.ts). */
export async function status(opts: { json?: boolean }, cmd: CommandLike): Promise<void> {
  return withReadSession(cmd, async (s, config) => {
    if (s === null) {
      // A broker history nobody wrote yet: status only reads, so it does not create one.
      if (opts.json)
        printJson({
          user: config.user,
          backend: redactBackend(config.backend),
          lastSeq: 0,
          online: true,
          timer: null,
        });
      else print(`no history yet for '${config.user}'`);
      return;
    }
    const state = s.client.view();
    const user = state.tenant.users.get(config.user);
    const now = Date.now() * 1000;
    const timer = user ? timerAt(user, now) : null;
    if (opts.json) {
      printJson({
        user: config.user,
        backend: redactBackend(config.backend),
        lastSeq: state.lastSeq,
        online: s.client.online,
        timer,
      });
      return;
    }
    if (!user) return print(`no history yet for '${config.user}'`);
    if (!timer || timer.state === 'idle') return print('idle');
    const what = `${timer.pomodoro} of '${timer.workitem?.name ?? ''}'`;
    if (timer.state === 'work')
      print(`work: ${what}, ${mmss(timer.remainingSeconds ?? 0)} left (until ${timer.until})`);
    else if (timer.state === 'rest')
      print(`rest after ${what}, ${mmss(timer.remainingSeconds ?? 0)} left (until ${timer.until})`);
    else if (timer.state === 'long-break')
      print(`long break after ${what}, ${mmss(timer.elapsedSeconds ?? 0)} so far`);
    else print(`tracking ${what}, ${mmss(timer.elapsedSeconds ?? 0)} so far`);
  });
}
