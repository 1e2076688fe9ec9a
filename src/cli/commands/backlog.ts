import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { formatInstant } from '../../core/engine/time';
import { ensureUser, nameArg, positionArg, print, printJson, reorderIndex, resolveBacklog } from '../run';
import { userOf, withSession } from '../run';

export function register(program: Command): void {
  const backlog = program.command('backlog').description('create, rename, reorder, delete and list backlogs');

  backlog
    .command('create')
    .description('create a backlog')
    .argument('<name>', 'backlog name', nameArg('backlog name'))
    .option('--id <uid>', 'uid of the new backlog (default: a random UUID)', nameArg("option '--id'"))
    .action(async (name: string, opts: { id?: string }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        await ensureUser(s, config);
        const uid = opts.id ?? randomUUID();
        await s.client.execute('CreateBacklog', [uid, name]);
        print(uid);
      }),
    );

  backlog
    .command('rename')
    .description('rename a backlog')
    .argument('<backlog>', 'uid, unique uid prefix, name or unique start of a name')
    .argument('<name>', 'new name', nameArg('backlog name'))
    .action(async (ref: string, name: string, _o: unknown, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const b = resolveBacklog(userOf(s.client.state, config), ref);
        await s.client.execute('RenameBacklog', [b.uid, name]);
      }),
    );

  backlog
    .command('reorder')
    .description('move a backlog to another position in the list (1 = first)')
    .argument('<backlog>', 'uid, unique uid prefix, name or unique start of a name')
    .argument('<position>', 'its new position, 1 = first')
    .action(async (ref: string, position: string, _o: unknown, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const user = userOf(s.client.state, config);
        const b = resolveBacklog(user, ref);
        const to = positionArg(position, user.backlogs.size, 'backlog');
        await s.client.execute('ReorderBacklog', [b.uid, String(reorderIndex(user.backlogs.indexOf(b.uid), to))]);
      }),
    );

  backlog
    .command('delete')
    .description('delete a backlog and its workitems (a running pomodoro is voided)')
    .argument('<backlog>', 'uid, unique uid prefix, name or unique start of a name')
    .action(async (ref: string, _o: unknown, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const b = resolveBacklog(userOf(s.client.state, config), ref);
        await s.client.execute('DeleteBacklog', [b.uid, '']);
      }),
    );

  backlog
    .command('list')
    .description('list backlogs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const user = s.client.state.tenant.users.get(config.user);
        const rows = (user?.backlogs.values() ?? []).map((b) => ({
          uid: b.uid,
          name: b.name,
          workitems: b.workitems.size,
          open: b.workitems.values().filter((w) => !w.isSealed()).length,
          created: formatInstant(b.createDate),
        }));
        if (opts.json) printJson(rows);
        else for (const r of rows) print(`${r.uid}  ${r.name}  (${r.open} open / ${r.workitems})`);
      }),
    );
}
