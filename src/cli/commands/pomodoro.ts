import type { Command } from 'commander';
import { positiveInt, resolveWorkitem, userOf, withSession } from '../run';

export function register(program: Command): void {
  const pomodoro = program.command('pomodoro').description('plan or unplan pomodoros of a workitem');

  pomodoro
    .command('add')
    .description('add pomodoros to a workitem')
    .argument('<workitem>', 'uid, unique uid prefix, name or unique start of a name')
    .argument('[count]', 'how many', '1')
    .option('--tracker', 'add trackers (count-up timers for unfocused work) instead of pomodoros')
    .action(async (ref: string, count: string, opts: { tracker?: boolean }, cmd: Command) => {
      const n = positiveInt(count, 'count');
      await withSession(cmd, async (s, config) => {
        const w = resolveWorkitem(userOf(s.client.state, config), ref);
        await s.client.execute('AddPomodoro', [w.uid, String(n), opts.tracker ? 'tracker' : 'normal']);
      });
    });

  pomodoro
    .command('remove')
    .description('remove planned (new) pomodoros from the end of a workitem')
    .argument('<workitem>', 'uid, unique uid prefix, name or unique start of a name')
    .argument('[count]', 'how many', '1')
    .action(async (ref: string, count: string, _o: unknown, cmd: Command) => {
      const n = positiveInt(count, 'count');
      await withSession(cmd, async (s, config) => {
        const w = resolveWorkitem(userOf(s.client.state, config), ref);
        await s.client.execute('RemovePomodoro', [w.uid, String(n)]);
      });
    });
}
