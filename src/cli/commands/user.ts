import type { Command } from 'commander';
import { nameArg, print, printJson, userOf, withSession } from '../run';

export function register(program: Command): void {
  const user = program.command('user').description("show or rename the user fk acts as (--user)");

  user
    .command('show')
    .description('the user: identity, display name, backlogs and workitems')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const u = userOf(s.client.state, config);
        const workitems = [...u.workitems.values()].length;
        const row = { identity: u.identity, name: u.name, backlogs: u.backlogs.size, workitems };
        if (opts.json) printJson(row);
        else print(`${row.name} <${row.identity}>: ${row.backlogs} backlogs, ${row.workitems} workitems`);
      }),
    );

  user
    .command('rename')
    .description("change the user's display name (the identity stays: it names the history)")
    .argument('<name>', 'new display name', nameArg('user name'))
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const u = userOf(s.client.state, config);
        await s.client.execute('RenameUser', [u.identity, name]);
      }),
    );
}
