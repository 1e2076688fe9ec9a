import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import { daemonEvent } from '../core/notify/notifications';
import type { DaemonParts } from './parts';
import type { Timers } from './timers';

/** Resolves true when `p` settles before `deadline` does, false otherwise (`p` is left running). */
function before(p: Promise<unknown>, deadline: Promise<void>): Promise<boolean> {
  const settled = p.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, deadline.then(() => false)]);
}

/**
 * The graceful stop (issue 11.3), within `budgetMs` in every state: `daemon.offline` for every
 * followed user, the HTTP endpoint closed, the outbox drained for the budget less a reserve (up
 * to 1 s) kept for closing connections, checkpoints saved, sessions, deliveries and targets
 * closed. A close still running at the end of the budget (a broker that stopped answering, a link
 * that dropped while closing) is given up on with a warning naming it.
 */
export async function shutdown(
  parts: DaemonParts,
  opts: { budgetMs: number; clock: Clock; timers: Timers; logger: Logger },
): Promise<void> {
  const { budgetMs, timers } = opts;
  const log = opts.logger;
  const { state, acceptor, watchers, loops, targets } = parts;
  let budgetTimer: unknown = null;
  const deadline = new Promise<void>((r) => (budgetTimer = timers.setTimeout(r, budgetMs)));
  log.info({ pending: state.outbox.depth() }, 'daemon stopping');
  clearInterval(state.sweep);
  for (const w of watchers) {
    if (!w.caughtUp) continue;
    const detail = { reason: 'shutdown', readOnly: true };
    acceptor.accept(daemonEvent('daemon.offline', w.config.user, state.id, opts.clock.now(), detail).event);
  }
  acceptor.close();
  await before(parts.endpoint?.close() ?? Promise.resolve(), deadline);
  const drainMs = budgetMs - Math.min(1000, budgetMs / 2);
  await before(Promise.all([...loops.values()].map((l) => l.drain(drainMs))), deadline);
  if (state.outbox.depth() > 0)
    log.warn({ pending: state.outbox.depth() }, 'outbox not drained; kept for the next start');
  parts.saveCheckpoints(true);
  const closes: Array<[string, Promise<unknown>]> = [
    ...watchers.map((w): [string, Promise<unknown>] => [`session ${w.key}`, w.close()]),
    ...[...loops.values()].map((l): [string, Promise<unknown>] => [`delivery ${l.target.name}`, l.stop(budgetMs)]),
    ...targets.map((t): [string, Promise<unknown>] => [`target ${t.name}`, t.close()]),
  ];
  for (const [what, p] of closes) p.catch((err: unknown) => log.warn({ err, what }, 'close failed'));
  const done = await Promise.all(closes.map(([, p]) => before(p, deadline)));
  timers.clearTimeout(budgetTimer);
  const hanging = closes.filter((_c, i) => !done[i]).map(([what]) => what);
  if (hanging.length > 0) log.warn({ hanging, timeoutMs: budgetMs }, 'close timed out; stopping anyway');
  state.outbox.compact();
  state.outbox.close();
  state.release();
  log.info({}, 'daemon stopped');
}
