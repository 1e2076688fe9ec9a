import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createReplicaCache } from '../src/app/replicaCache';
import { createClient, type Client, type ClientOptions } from '../src/core/client';
import { createSodiumCipher, formatSodiumHeader, parseRecordBinding, type Cipher } from '../src/core/crypto';
import { createAmqpTransport } from '../src/transports/amqp';
import { historyTopology } from '../src/transports/amqp/topology';
import { consumeRaw, deleteStream, publishWindowed, type AmqpBenchResult } from './amqpBench';
import { createLatencyProbe } from './clientLatency';
import { median, paired, percentile } from './results';
import { generateHistory } from '../test/support/generate';

/** Prefetch of the raw consumer and of every client's subscription (as in amqpBench.ts). */
const BENCH_PREFETCH = 5000;
/** Sequential execute round trips measured for the latency figures. */
const LATENCY_SAMPLES = 500;
/** Paired raw/client runs behind the replay ratio (the median of the per-run ratios counts). */
const RUNS = 3;
const USER = 'user@local.host';

/**
 * The client over RabbitMQ, next to the raw stream in the same run: fills a fresh stream with a
 * generated, valid history of `n` records in sodium envelopes (plus the header), then measures
 *
 * - `amqp.client.consume_raw`: a bare amqplib consumer reading the stream (records/s);
 * - `amqp.client.replay`: `createClient(…).start()` from nothing to caught up, i.e. connect, tail
 *   probe, receive, decrypt, parse and apply every record (records/s), and its ratio to the raw
 *   rate (`amqp.client.replay_vs_raw`, target ≥ 0.5: the median of per-run ratios, each run
 *   reading raw and through a client alternately);
 * - `amqp.client.replay_writing_replica`: the same with an empty replica cache, which it fills (ms);
 * - `amqp.client.start_from_replica`: the same start with that warm replica (ms);
 * - `amqp.client.append_p50`/`p99`: `execute` until the writer sees its record accepted;
 * - `amqp.client.e2e_p50`/`p99`: `execute` on one client until another client's `onRecord`.
 *
 * Latencies are measured on the full n-record state (each append is checked against it); the
 * writer keeps a replica cache, as the CLI and the daemon do. Deletes its stream afterwards.
 */
export async function runAmqpClientBench(url: string, n = 100_000): Promise<AmqpBenchResult[]> {
  const history = `bench-client-${randomUUID()}`;
  const { queue, exchange } = historyTopology(history);
  const logId = randomUUID();
  const header = formatSodiumHeader({ logId, salt: new Uint8Array(randomBytes(16)) });
  const cipher = await createSodiumCipher({ key: new Uint8Array(randomBytes(32)), logId });
  const cacheDir = mkdtempSync(join(tmpdir(), 'fk-bench-replica-'));
  const clients = new Set<Client>();
  const open = (extra: Partial<ClientOptions> = {}): Client => {
    const transport = createAmqpTransport({ url, history, prefetch: BENCH_PREFETCH });
    const c = createClient({ transport, user: USER, cipher, sequencing: 'race', ...extra });
    clients.add(c);
    return c;
  };
  /** Closed clients are let go at once, so their 100k-record models do not weigh on later figures. */
  const close = async (c: Client): Promise<void> => {
    clients.delete(c);
    await c.close();
  };
  const results: AmqpBenchResult[] = [];
  try {
    await fill(url, history, header, cipher, n);

    // Paired: each run reads the raw stream and replays through a client, alternately.
    const r = await paired(
      RUNS,
      async () => {
        const c = open();
        const t = performance.now();
        await c.start();
        const v = rate(n + 1, t);
        assertCaughtUp(c, n);
        await close(c);
        return v;
      },
      async () => {
        const t = performance.now();
        await consumeRaw(url, queue, n);
        return rate(n + 1, t);
      },
      (x) => x,
    );
    const replay = median(r.a);
    const raw = median(r.b);
    const cold = open({ cache: createReplicaCache(cacheDir, history) });
    let t0 = performance.now();
    await cold.start();
    const coldMs = performance.now() - t0;
    assertCaughtUp(cold, n);
    await close(cold);
    const warm = open({ cache: createReplicaCache(cacheDir, history) });
    t0 = performance.now();
    await warm.start();
    const warmMs = performance.now() - t0;
    assertCaughtUp(warm, n);
    results.push(
      { name: 'amqp.client.consume_raw', value: raw, unit: 'records/s' },
      { name: 'amqp.client.replay', value: replay, unit: 'records/s' },
      {
        name: 'amqp.client.replay_vs_raw',
        value: round(r.ratio),
        unit: 'x raw',
        comparison: {
          what: `RabbitMQ: client replay of ${n / 1000}k sodium records vs bare amqplib consume (rate)`,
          fk: `${Math.round(replay / 1000)}k/s`,
          baseline: `${Math.round(raw / 1000)}k/s`,
          ratio: round(r.ratio),
          goal: { op: '>=', value: 0.5 },
        },
      },
      { name: 'amqp.client.replay_writing_replica', value: round(coldMs), unit: 'ms' },
      { name: 'amqp.client.start_from_replica', value: round(warmMs), unit: 'ms' },
    );

    const probe = createLatencyProbe();
    const reader = open({ onRecord: probe.onRecord });
    await reader.start();
    const { append, e2e } = await probe.measure(warm, lastBacklog(warm), LATENCY_SAMPLES);
    results.push(
      { name: 'amqp.client.append_p50', value: round(percentile(append, 0.5)), unit: 'ms' },
      { name: 'amqp.client.append_p99', value: round(percentile(append, 0.99)), unit: 'ms' },
      { name: 'amqp.client.e2e_p50', value: round(percentile(e2e, 0.5)), unit: 'ms' },
      { name: 'amqp.client.e2e_p99', value: round(percentile(e2e, 0.99)), unit: 'ms' },
    );
    return results;
  } finally {
    await Promise.all([...clients].map(close));
    await deleteStream(url, queue, exchange);
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** Publishes the header and `n` generated records, each in its sodium envelope. */
async function fill(url: string, history: string, header: string, cipher: Cipher, n: number): Promise<void> {
  const writer = createAmqpTransport({ url, history });
  try {
    await writer.connect();
    await writer.publish(header, { id: randomUUID(), seq: 0 });
    const stored = generateHistory(n, 42, USER).map((line) => {
      const binding = parseRecordBinding(line);
      if (binding === null) throw new Error(`generated line is not a record: ${line.slice(0, 40)}`);
      return cipher.encryptLine(line, binding);
    });
    await publishWindowed(writer, n, (i) => stored[i] as string);
  } finally {
    await writer.close();
  }
}

function assertCaughtUp(c: Client, n: number): void {
  if (c.state.lastSeq !== n || c.historyError !== null) {
    throw new Error(`client replay ended at seq ${c.state.lastSeq} of ${n}: ${c.historyError?.message ?? 'no error'}`);
  }
}

function lastBacklog(c: Client): string {
  const backlogs = c.state.tenant.users.get(USER)?.backlogs.values() ?? [];
  const last = backlogs[backlogs.length - 1];
  if (last === undefined) throw new Error('the generated history has no backlog');
  return last.uid;
}

const rate = (count: number, since: number): number => Math.round((count / (performance.now() - since)) * 1000);
const round = (x: number): number => Math.round(x * 100) / 100;
