import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/app/config';
import { openSession } from '../src/app/session';
import { silentLogger } from '../src/core/logger';

/**
 * One client in its own process, for the client-to-client latency bench (clientsBench.ts). It
 * opens the history configured by the environment (FK_BACKEND, FK_USER, FK_PASSPHRASE, …) the
 * way `fk` does, and speaks line by line on stdio:
 *
 * - `reader`: prints `seen <uid> <t>` when a `CreateWorkitem` of that uid has been applied;
 * - `writer`: for each stdin line `<uid> <backlog>` executes `CreateWorkitem` and prints
 *   `done <uid> <t0> <t1>` (t0 before execute, t1 once it is seen accepted).
 *
 * Both print `ready` once caught up. Times are wall-clock milliseconds with sub-millisecond
 * precision (`performance.timeOrigin + now()`), comparable across processes on one machine.
 */
const now = (): number => performance.timeOrigin + performance.now();
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode !== 'reader' && mode !== 'writer') throw new Error('usage: clientProcess reader|writer');
  const config = loadConfig({});
  const session = await openSession(config, silentLogger, {
    onRecord: (r) => {
      if (mode === 'reader' && r.name === 'CreateWorkitem') say(`seen ${r.params[0]} ${now()}`);
    },
  });
  const lines = createInterface({ input: process.stdin });
  say('ready');
  for await (const line of lines) {
    if (mode !== 'writer') continue;
    const [uid, backlog] = line.split(' ');
    const t0 = now();
    await session.client.execute('CreateWorkitem', [uid as string, backlog as string, `probe ${uid}`]);
    say(`done ${uid} ${t0} ${now()}`);
  }
  await session.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
