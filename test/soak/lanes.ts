import { randomUUID } from 'node:crypto';
import type { Action, Intent } from './actions';
import type { Commands } from './commands';

/**
 * The soak's writers: `lanes` loops, each running one `fk` command at a time (all lanes at once),
 * on one history and one machine (a shared HOME: one replica cache, key cache and snapshot
 * folder, as for commands a user runs side by side). A lane creates a backlog now and then, adds
 * a workitem with one planned pomodoro, starts it (refused while another lane's pomodoro runs:
 * the user has one timer) and sometimes voids whatever runs after a while. Every action is
 * logged with how its command ended.
 */
export interface LaneOptions {
  readonly commands: Commands;
  /** Global options (backend, user) for every command. */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** A backlog that exists before the lanes start (a lane's own may have failed). */
  readonly seedBacklog: string;
  readonly workSeconds: number;
  readonly restSeconds: number;
  /** Chance that a lane voids the running pomodoro after adding a workitem. */
  readonly voidChance: number;
  readonly random: () => number;
  readonly stopped: () => boolean;
  readonly log: Action[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function act(o: LaneOptions, lane: number, intent: Intent, args: readonly string[]): Promise<boolean> {
  const { outcome } = await o.commands.run([...o.args, ...args], o.env);
  o.log.push({ lane, intent, outcome });
  return outcome.code === 0 && !outcome.killed && !outcome.hung;
}

export async function runLane(o: LaneOptions, lane: number): Promise<void> {
  let backlog = o.seedBacklog;
  for (let i = 1; !o.stopped(); i++) {
    if (i % 3 === 1) {
      const uid = randomUUID();
      const name = `Soak lane ${lane} backlog ${i}`;
      if (await act(o, lane, { kind: 'backlog', uid, name }, ['backlog', 'create', name, '--id', uid])) backlog = uid;
      if (o.stopped()) break;
    }
    const uid = randomUUID();
    const name = `Soak lane ${lane} item ${i}`;
    const added = await act(o, lane, { kind: 'workitem', uid, backlog, name }, [
      'workitem', 'add', backlog, name, '--pomodoros', '1', '--id', uid,
    ]);
    if (o.stopped()) break;
    if (added) {
      const work = String(o.workSeconds);
      const rest = String(o.restSeconds);
      await act(o, lane, { kind: 'start', workitem: uid }, ['start', uid, '--work', work, '--rest', rest]);
    }
    if (o.random() < o.voidChance && !o.stopped()) {
      // Some time into the pomodoro (or the next one), whichever lane's it is.
      await sleep(o.random() * (o.workSeconds + o.restSeconds) * 1000);
      if (o.stopped()) break;
      const reason = `Soak lane ${lane} void ${i}`;
      await act(o, lane, { kind: 'void', reason }, ['void', '--reason', reason]);
    }
  }
}
