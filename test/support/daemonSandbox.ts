import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/app/config';
import { openSession, type Session } from '../../src/app/session';
import { createClient, type Client } from '../../src/core/client';
import { manualClock, type Micros } from '../../src/core/clock';
import { silentLogger, type Logger } from '../../src/core/logger';
import type { StrategyName } from '../../src/core/engine/records';
import { parseInstant } from '../../src/core/engine/time';
import { resolveDaemonConfig } from '../../src/daemon/options';
import { createDaemon, type Daemon, type DaemonDeps } from '../../src/daemon/runtime';
import { createFileTransport } from '../../src/transports/file';
import { waitUntil, type WebhookReceiver } from './webhookReceiver';

/**
 * In-process daemons for the integration tier: a sandbox (own XDG dirs and config file) per
 * test, daemons on a manual clock, and writers playing the desktop app or the `fk` CLI.
 * Everything started here is stopped after each test.
 */
export const S = 1_000_000;
export const T0 = parseInstant('2026-06-10T10:00:00Z') as Micros;
export type ManualClock = ReturnType<typeof manualClock>;

export const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A sandbox: its own XDG dirs and config file; daemons and writers on one history. */
export function sandbox(daemonSection: Record<string, unknown>, backend?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fk-daemon-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    HOME: dir,
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, 'config'),
  };
  const user = `alice-${randomUUID().slice(0, 8)}@example.org`;
  const data = backend ?? join(dir, 'flowkeeper-data.txt');
  /** The config a command or daemon reads (`over` replaces top-level keys, e.g. the backend). */
  const configFor = (section: Record<string, unknown>, over: Record<string, unknown> = {}): Config => {
    const file = join(dir, `config-${randomUUID()}.json`);
    const daemon = { http: '127.0.0.1:0', dedupe: { dir: join(dir, 'seen') }, ...daemonSection, ...section };
    writeFileSync(file, JSON.stringify({ backend: data, user, encryption: 'off', daemon, ...over }));
    return loadConfig({ config: file }, env);
  };
  return { dir, env, user, data, configFor };
}

export type Sandbox = ReturnType<typeof sandbox>;

export async function startDaemon(
  sb: Sandbox,
  clock: ManualClock,
  section: Record<string, unknown> = {},
  opts: { over?: Record<string, unknown>; logger?: Logger; deps?: Partial<DaemonDeps> } = {},
): Promise<Daemon> {
  const config = resolveDaemonConfig(sb.configFor(section, opts.over), {}, sb.env);
  const d = createDaemon({ config, logger: opts.logger ?? silentLogger, clock, autoTick: false, ...opts.deps });
  await d.start();
  cleanups.push(() => d.stop());
  return d;
}

/** A second client on the same file: plays the desktop app / `fk` CLI writing the history. */
export async function fileWriter(sb: Sandbox, clock: ManualClock): Promise<Client> {
  const c = createClient({
    transport: createFileTransport({ path: sb.data }),
    user: sb.user,
    clock,
    sequencing: 'strict',
  });
  await c.start();
  cleanups.push(() => c.close());
  return c;
}

/** A writer on the sandbox's backend through its own session (brokers: the `fk` CLI's way). */
export async function sessionWriter(
  sb: Sandbox,
  clock: ManualClock,
  over: Record<string, unknown> = {},
): Promise<Session> {
  const s = await openSession(sb.configFor({}, over), silentLogger, { clock });
  cleanups.push(() => s.close());
  return s;
}

export async function plan(w: Pick<Client, 'execute'>, user: string, pomodoros = 2): Promise<void> {
  await w.execute('CreateUser', [user, 'Alice'], { user: 'admin@local.host' });
  await w.execute('CreateBacklog', ['b1', 'Today']);
  await w.execute('CreateWorkitem', ['w1', 'b1', 'Write the report']);
  await w.execute('AddPomodoro', ['w1', String(pomodoros)]);
}

export const seq = (d: Daemon): number => d.status().users[0]?.lastSeq ?? 0;
export const settled = (d: Daemon): boolean => d.status().outbox.pending === 0;
export const types = (r: WebhookReceiver): string[] =>
  r.received.map((x) => x.event.type).filter((t) => !t.startsWith('daemon.'));

/** Runs an action and waits until every daemon applied it. */
export async function act(
  w: Pick<Client, 'execute'>,
  d: Daemon[],
  name: StrategyName,
  ...params: string[]
): Promise<void> {
  const rec = await w.execute(name, params);
  for (const x of d) await waitUntil(() => seq(x) >= rec.seq, `daemon at seq ${rec.seq}`);
}

/** One captured log call: level, merged bindings and fields, message. */
export interface LogLine {
  readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** A Logger that keeps every call (for asserting what an operator would see at warn/error). */
export function captureLogger(
  lines: LogLine[] = [],
  bindings: Record<string, unknown> = {},
): Logger & { readonly lines: LogLine[] } {
  const at =
    (level: LogLine['level']) =>
    (a: object | string, b?: string): void => {
      lines.push(
        typeof a === 'string'
          ? { level, msg: a, fields: { ...bindings } }
          : { level, msg: b ?? '', fields: { ...bindings, ...a } },
      );
    };
  return {
    lines,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (more) => captureLogger(lines, { ...bindings, ...more }),
  };
}
