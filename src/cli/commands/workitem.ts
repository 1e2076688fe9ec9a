import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { User, Workitem } from '../../core/engine/model';
import type { Session } from '../../app/session';
import { LEGEND, markOf } from '../pomodoroLog';
import {
  ensureUser,
  nameArg,
  positionArg,
  positiveInt,
  print,
  printJson,
  reorderIndex,
  resolveBacklog,
  resolveWorkitem,
  userOf,
  withSession,
} from '../run';

export function register(program: Command): void {
  const wi = program
    .command('workitem')
    .alias('wi')
    .description('add, rename, complete, restore, move, reorder, delete and list workitems');

  wi.command('add')
    .description('add a workitem to a backlog (#hashtags in the name become tags)')
    .argument('<backlog>', 'uid, unique uid prefix, name or unique start of a name of the backlog')
    .argument('<name>', 'workitem name', nameArg('workitem name'))
    .option('--pomodoros <n>', 'also plan this many pomodoros')
    .option('--id <uid>', 'uid of the new workitem (default: a random UUID)', nameArg("option '--id'"))
    .action(async (bref: string, name: string, opts: { pomodoros?: string; id?: string }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        const n = opts.pomodoros === undefined ? 0 : positiveInt(opts.pomodoros, "option '--pomodoros'");
        const user = await ensureUser(s, config);
        const b = resolveBacklog(user, bref);
        const uid = opts.id ?? randomUUID();
        await s.client.execute('CreateWorkitem', [uid, b.uid, name]);
        if (n > 0) await s.client.execute('AddPomodoro', [uid, String(n), 'normal']);
        print(uid);
      }),
    );

  /** Runs `fn` with the referenced workitem of the configured user. */
  const onWorkitem = (
    cmd: Command,
    ref: string,
    fn: (w: Workitem, user: User, s: Session) => Promise<unknown>,
  ): Promise<void> =>
    withSession(cmd, async (s, config) => {
      const user = userOf(s.client.state, config);
      await fn(resolveWorkitem(user, ref), user, s);
    });
  const WI = ['<workitem>', 'uid, unique uid prefix, name or unique start of a name'] as const;

  wi.command('rename')
    .description('rename a workitem')
    .argument(...WI)
    .argument('<name>', 'new name', nameArg('workitem name'))
    .action(async (ref: string, name: string, _o: unknown, cmd: Command) =>
      onWorkitem(cmd, ref, (w, _u, s) => s.client.execute('RenameWorkitem', [w.uid, name])),
    );

  wi.command('complete')
    .description('mark a workitem finished (or --canceled); a running pomodoro is voided')
    .argument(...WI)
    .option('--canceled', 'mark it canceled instead of finished')
    .action(async (ref: string, o: { canceled?: boolean }, cmd: Command) =>
      onWorkitem(cmd, ref, (w, _u, s) =>
        s.client.execute('CompleteWorkitem', [w.uid, o.canceled ? 'canceled' : 'finished']),
      ),
    );

  wi.command('restore')
    .description('reopen a finished or canceled workitem')
    .argument(...WI)
    .action(async (ref: string, _o: unknown, cmd: Command) =>
      onWorkitem(cmd, ref, (w, _u, s) => s.client.execute('RestoreWorkitem', [w.uid, ''])),
    );

  wi.command('move')
    .description('move a workitem to another backlog')
    .argument(...WI)
    .argument('<backlog>', 'target backlog: uid, unique uid prefix, name or unique start of a name')
    .action(async (ref: string, bref: string, _o: unknown, cmd: Command) =>
      onWorkitem(cmd, ref, (w, u, s) => s.client.execute('MoveWorkitem', [w.uid, resolveBacklog(u, bref).uid])),
    );

  wi.command('reorder')
    .description('move a workitem to another position in its backlog (1 = first)')
    .argument(...WI)
    .argument('<position>', 'its new position in the backlog, 1 = first')
    .action(async (ref: string, position: string, _o: unknown, cmd: Command) =>
      onWorkitem(cmd, ref, (w, _u, s) => {
        const list = w.backlog.workitems;
        const to = positionArg(position, list.size, 'workitem');
        return s.client.execute('ReorderWorkitem', [w.uid, String(reorderIndex(list.indexOf(w.uid), to))]);
      }),
    );

  wi.command('delete')
    .description('delete a workitem (a running pomodoro is voided)')
    .argument(...WI)
    .action(async (ref: string, _o: unknown, cmd: Command) =>
      onWorkitem(cmd, ref, (w, _u, s) => s.client.execute('DeleteWorkitem', [w.uid, ''])),
    );

  wi.command('list')
    .description('list workitems, of one backlog or of all, with a mark per pomodoro (legend below the list)')
    .argument('[backlog]', 'uid, unique uid prefix, name or unique start of a name')
    .option('--json', 'print JSON')
    .action(async (bref: string | undefined, opts: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async (s, config) => {
        // As the timer shows it now: a pomodoro whose time is up is done, not running.
        const user = s.client.view().tenant.users.get(config.user);
        const backlogs =
          user === undefined ? [] : bref === undefined ? user.backlogs.values() : [resolveBacklog(user, bref)];
        const rows = backlogs.flatMap((b) =>
          b.workitems.values().map((w) => ({
            uid: w.uid,
            name: w.name,
            backlog: b.uid,
            state: w.state,
            pomodoros: w.pomodoros.map((p) => ({
              name: p.name,
              type: p.type,
              state: p.state,
              voided: p.state === 'new' && p.dateWorkStarted !== null,
              mark: markOf(p),
            })),
          })),
        );
        if (opts.json) printJson(rows);
        else {
          for (const r of rows) print(`${r.uid}  [${r.state}] ${r.name} ${r.pomodoros.map((p) => p.mark).join('')}`);
          if (rows.some((r) => r.pomodoros.length > 0)) print(LEGEND);
        }
      }),
    );
}
