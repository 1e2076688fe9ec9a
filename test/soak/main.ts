import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { StrategyRecord } from '../../src/core/engine/records';
import { replay } from '../../src/core/engine/replay';
import { parseLine } from '../../src/core/engine/serializer';
import type { Action } from './actions';
import { openBackend, type BackendKind, type SoakBackend } from './backends';
import { checkHistory } from './checkHistory';
import { checkNotifications } from './checkNotifications';
import { commands, type Commands } from './commands';
import { startSoakDaemon, until, type SoakDaemon } from './daemon';
import { injectFaults } from './faults';
import { runLane } from './lanes';
import { printReport, violations, type SoakResult } from './report';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver';

/**
 * `npm run soak` (issue 11, "Done when"): N concurrent `fk` writers, one `fk daemon` and repeated
 * connection cuts through the fault proxy on one history, then the proof from the exported
 * history: every action whose command exited 0 is there exactly once (a failed one at most once),
 * and every notification the daemon sent matches the final history. Loopback only; exits 1 on any
 * violation, 2 when the soak itself could not run. Options: see USAGE.
 */
const USAGE = `usage: npm run soak -- [--backend amqp|xmpp|file] [--writers N] [--seconds S] [--work S] [--rest S]
                      [--void-chance P] [--fault-gap-ms MS] [--seed N] [--keep]`;

const ROOT = resolve(__dirname, '../../..');
const CLI = process.env.FK_TEST_CLI ?? join(ROOT, 'dist/cli/main.js');
const SECRET = 'soak webhook secret';

function options() {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'amqp' },
      writers: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '90' },
      work: { type: 'string', default: '4' },
      rest: { type: 'string', default: '3' },
      'void-chance': { type: 'string', default: '0.35' },
      'fault-gap-ms': { type: 'string', default: '2500' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const num = (name: keyof typeof values): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0, got '${String(values[name])}'`);
    return n;
  };
  const backend = values.backend as BackendKind;
  if (!['amqp', 'xmpp', 'file'].includes(backend))
    throw new Error(`--backend must be amqp, xmpp or file, got '${backend}'`);
  return {
    backend,
    writers: Math.max(1, Math.floor(num('writers'))),
    seconds: num('seconds'),
    work: num('work'),
    rest: num('rest'),
    voidChance: num('void-chance'),
    faultGapMs: num('fault-gap-ms'),
    seed: Math.floor(num('seed')),
    keep: values.keep === true,
    help: values.help === true,
  };
}

/** mulberry32: the soak's choices (what to do, when to cut) repeat for a seed; timings do not. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** Exports the history straight from the backend with a fresh machine's view (no cache, no proxy). */
async function exportHistory(
  run: Commands,
  b: SoakBackend,
  home: string,
): Promise<{ lines: string[]; records: StrategyRecord[] }> {
  const out = join(home, `export-${randomUUID().slice(0, 8)}.txt`);
  const env = sandboxEnv(home, b.env);
  rmSync(join(home, 'cache'), { recursive: true, force: true });
  for (let attempt = 1; ; attempt++) {
    const r = await run.run([...b.directArgs, 'export', '--out', out, '--force'], env);
    if (r.outcome.code === 0) break;
    if (attempt === 3) throw new Error(`fk export failed ${attempt} times: ${r.outcome.error}`);
  }
  const lines = readFileSync(out, 'utf8').split('\n');
  const records = lines.flatMap((l, i) => {
    const p = parseLine(l, i + 1);
    return p.kind === 'record' ? [p.record] : [];
  });
  return { lines, records };
}

function sandboxEnv(home: string, extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_STATE_HOME: join(home, 'state'),
    ...extra,
  };
}

async function soak(o: ReturnType<typeof options>): Promise<SoakResult> {
  const random = prng(o.seed);
  const b = await openBackend(o.backend);
  const home = mkdtempSync(join(tmpdir(), 'fk-soak-'));
  const readerHome = mkdtempSync(join(tmpdir(), 'fk-soak-reader-'));
  const env = sandboxEnv(home, b.env);
  // Longer than any command may take (heartbeats, reconnects, a 5 s lock wait) on a loaded machine.
  const run = commands(CLI, 180_000);
  let hook: WebhookReceiver | null = null;
  let daemon: SoakDaemon | null = null;
  say(`soak: ${o.backend} at ${b.where}; user ${b.user}; work dir ${home}`);
  try {
    const seedBacklog = randomUUID();
    const seeded = await run.run([...b.args, 'backlog', 'create', 'Soak seed', '--id', seedBacklog], env);
    if (seeded.outcome.code !== 0) throw new Error(`seeding the history failed: ${seeded.outcome.error}`);
    hook = await startWebhookReceiver(SECRET);
    daemon = await startSoakDaemon(
      CLI,
      b.daemonArgs,
      { ...env, FK_DAEMON_WEBHOOK_SECRET: SECRET },
      hook.url,
      join(home, 'daemon'),
    );
    const d = daemon;
    if (!(await until(async () => ((await d.status())?.users[0]?.lastSeq ?? 0) >= 2, 120_000)))
      throw new Error('the daemon did not catch up with the seeded history');
    say(`soak: daemon following; ${o.writers} writers for ${o.seconds} s`);

    const stopAt = Date.now() + o.seconds * 1000;
    const stopped = (): boolean => Date.now() >= stopAt;
    const log: Action[] = [];
    const lanes = { commands: run, args: b.args, env, seedBacklog, workSeconds: o.work, restSeconds: o.rest };
    const [faults] = await Promise.all([
      injectFaults({
        proxy: b.proxy,
        daemonProxy: b.daemonProxy,
        cutEvents: b.cutEvents,
        commands: run,
        random,
        stopped,
        meanGapMs: o.faultGapMs,
      }),
      ...Array.from({ length: o.writers }, (_, lane) =>
        runLane({ ...lanes, voidChance: o.voidChance, random, stopped, log }, lane + 1),
      ),
    ]);
    say(`soak: writers done (${log.length} commands); checking`);

    // The final history, and the daemon caught up with it and done ringing what it planned.
    let history = await exportHistory(run, b, readerHome);
    const replayed = (): ReturnType<typeof replay> => {
      const last = history.records[history.records.length - 1]?.when ?? 0;
      // Sealed an hour after the last record: every pomodoro has ended by then.
      return replay(history.lines, { now: last + 3_600_000_000 });
    };
    let state = replayed();
    /** Whether every happening of the final history has been notified (retracted ones aside). */
    const allTold = (): boolean => {
      const u = state.tenant.users.get(b.user);
      const received = hook?.received.map((x) => x.event) ?? [];
      return u !== undefined && checkNotifications(u, history.records, received).missing.length === 0;
    };
    let caughtUp = await until(async () => {
      const s = (await d.status())?.users[0];
      if (s === undefined) return false;
      if (s.lastSeq > history.records.length) {
        // A record reached the history after the export (its writer was killed): read it again.
        history = await exportHistory(run, b, readerHome);
        state = replayed();
      }
      return s.lastSeq === history.records.length && s.timer?.state === 'idle' && allTold();
    }, 180_000);
    const last = await d.status();
    caughtUp &&= (await until(async () => (await d.status())?.outbox.pending === 0, 60_000)) && last !== null;
    const exit = await d.stop();
    const { records } = history;
    const user = state.tenant.users.get(b.user);
    if (user === undefined) throw new Error(`the exported history has no user '${b.user}'`);
    const seedIndex = records.findIndex((r) => r.name === 'CreateBacklog' && r.params[0] === seedBacklog);
    const received = hook.received.map((x) => x.event);
    const badSignatures = hook.received.filter((x) => !x.signatureValid).length;
    const notifications = checkNotifications(user, records, received);
    if (badSignatures > 0) notifications.mismatches.push(`${badSignatures} deliveries with a bad signature`);
    return {
      backend: o.backend,
      where: b.where,
      seed: o.seed,
      lanes: o.writers,
      seconds: o.seconds,
      history: checkHistory(records, log, seedIndex + 1),
      notifications,
      faults,
      records: records.length,
      daemon: {
        exit,
        caughtUp,
        warnings: d.warnings().length,
        ignored: last?.users[0]?.ignored?.counts ?? {},
      },
      actions: log,
    };
  } finally {
    if (daemon !== null && daemon.proc.child.exitCode === null) await daemon.stop();
    await hook?.close();
    if (!o.keep) {
      await b.cleanup().catch((err: unknown) => say(`soak: clean-up: ${String(err)}`));
      rmSync(home, { recursive: true, force: true });
      rmSync(readerHome, { recursive: true, force: true });
    } else say(`soak: kept ${home} and the history`);
  }
}

async function main(): Promise<number> {
  let o: ReturnType<typeof options>;
  try {
    o = options();
  } catch (err) {
    say(`soak: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    say(USAGE);
    return 0;
  }
  if (!existsSync(CLI)) {
    say(`soak: ${CLI} is missing: run 'npm run build' (npm run soak does)`);
    return 2;
  }
  let result: SoakResult;
  try {
    result = await soak(o);
  } catch (err) {
    say(`soak: could not run: ${(err as Error).stack ?? String(err)}`);
    return 2;
  }
  printReport(result, say);
  return violations(result).length === 0 ? 0 : 1;
}

void main().then((code) => process.exit(code));
