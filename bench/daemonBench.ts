import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '../src/app/config';
import { DEFAULTS, type DaemonConfig } from '../src/daemon/options';
import { createDaemon } from '../src/daemon/runtime';
import { createClient } from '../src/core/client';
import type { FkEvent } from '../src/core/notify/notifications';
import { silentLogger } from '../src/core/logger';
import { parseInstant } from '../src/core/engine/time';
import { createFileTransport } from '../src/transports/file';
import { percentile, type BenchResult } from './results';

/** One benchmark figure. */
export type DaemonBenchResult = BenchResult;

const POMODOROS = 40;
const WORK_S = 0.15;
const REST_S = 0.1;

const round = (v: number): number => Math.round(v * 100) / 100;

/**
 * Notification latency of `fk daemon` on loopback: from a transition's planned instant to the
 * moment a local webhook has the whole request. A writer client starts short pomodoros
 * (0.15 s work, 0.1 s rest) on a file history; the daemon, on the system clock, rings
 * `work.finished` at its wake-up and releases `rest.finished` (rung early by the 1 s seal margin,
 * then held) at its instant. Prints nothing; the bench runner aggregates.
 */
export async function runDaemonBench(): Promise<DaemonBenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fk-daemon-bench-'));
  const user = 'bench@example.org';
  const latencies: number[] = [];
  let waiting: { pomodoro: string; resolve: () => void } | null = null;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedMs = performance.timeOrigin + performance.now();
      res.writeHead(204).end();
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FkEvent;
      if (event.type === 'work.finished' || event.type === 'rest.finished') {
        latencies.push(receivedMs - (parseInstant(event.at) as number) / 1000);
      }
      if (waiting !== null && event.type === 'rest.finished' && event.pomodoro === waiting.pomodoro) waiting.resolve();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench`;
  const data = join(dir, 'flowkeeper-data.txt');
  const session: Config = {
    backend: data,
    user,
    logLevel: 'silent',
    encryption: 'off',
    passphraseFile: undefined,
    cacheDir: join(dir, 'cache'),
    configFile: undefined,
    raw: {},
  };
  const config: DaemonConfig = {
    name: 'bench',
    stateDir: join(dir, 'state'),
    dedupeDir: join(dir, 'seen'),
    dedupeTtlMs: 3_600_000,
    late: 'drop',
    http: null,
    shutdownTimeoutMs: 1000,
    logLevel: 'silent',
    users: [session],
    targets: [
      {
        type: 'webhook',
        name: 'bench',
        url,
        secret: 'bench',
        timeoutMs: 2000,
        headers: {},
        events: ['work.finished', 'rest.finished'],
        retry: DEFAULTS.delivery.retry,
        dedupeKey: null,
      },
    ],
  };
  const daemon = createDaemon({ config, logger: silentLogger });
  const writer = createClient({ transport: createFileTransport({ path: data }), user, sequencing: 'strict' });
  try {
    await daemon.start();
    await writer.start();
    await writer.execute('CreateUser', [user, 'Bench'], { user: 'admin@local.host' });
    await writer.execute('CreateBacklog', ['b1', 'Bench']);
    await writer.execute('CreateWorkitem', ['w1', 'b1', 'Latency']);
    await writer.execute('AddPomodoro', ['w1', String(POMODOROS)]);
    for (let i = 1; i <= POMODOROS; i++) {
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`pomodoro ${i}: rest.finished not received`)), 10_000);
        waiting = {
          pomodoro: `Pomodoro ${i}`,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
      await writer.execute('StartTimer', ['w1', String(WORK_S), String(REST_S)]);
      await done;
    }
  } finally {
    await writer.close().catch(() => undefined);
    await daemon.stop().catch(() => undefined);
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return [
    {
      name: 'daemon notification latency p50 (planned instant → webhook received)',
      value: round(percentile(sorted, 0.5)),
      unit: 'ms',
    },
    { name: 'daemon notification latency p99', value: round(percentile(sorted, 0.99)), unit: 'ms' },
    { name: 'daemon notification latency max', value: round(sorted[sorted.length - 1] ?? NaN), unit: 'ms' },
    { name: 'daemon notification latency samples', value: sorted.length, unit: 'transitions' },
  ];
}
