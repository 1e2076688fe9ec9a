import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as amqp from 'amqplib';
import type { Transport } from '../src/core/transport';
import { createAmqpTransport } from '../src/transports/amqp';
import { historyTopology } from '../src/transports/amqp/topology';
import { percentile, type BenchResult } from './results';

/** One benchmark figure. */
export type AmqpBenchResult = BenchResult;

/** Unconfirmed publishes allowed at once while filling the stream. */
const PUBLISH_WINDOW = 5000;
/** Prefetch of the bare consumer and of the transport's subscription. */
const BENCH_PREFETCH = 5000;
/** Sequential publish → delivered round trips measured for the latency figures. */
const LATENCY_SAMPLES = 1000;

/**
 * RabbitMQ stream throughput and latency on the given broker: fills a fresh stream with `n`
 * ~200-byte records through the transport (confirmed, windowed), then measures a bare amqplib
 * consumer's read rate, the transport's subscribe-from-start rate until caught up, and the
 * publish → delivered latency through two transports. Deletes its stream afterwards. Then adds
 * the client figures of `runAmqpClientBench` (replay vs raw, append and end-to-end latency).
 * Prints nothing; the bench runner aggregates.
 */
export async function runAmqpBench(url: string, n = 100_000): Promise<AmqpBenchResult[]> {
  const history = `bench-${randomUUID()}`;
  const { queue, exchange } = historyTopology(history);
  const options = { url, history, prefetch: BENCH_PREFETCH };
  const transports: Transport[] = [];
  const open = async (): Promise<Transport> => {
    const t = createAmqpTransport(options);
    transports.push(t);
    await t.connect();
    return t;
  };
  const results: AmqpBenchResult[] = [];
  try {
    const writer = await open();
    const body = randomBytes(150).toString('base64'); // 200 characters, like an encrypted line
    let t0 = performance.now();
    await publishWindowed(writer, n, (i) => `${body}${i}`);
    results.push({ name: 'amqp.publish_confirmed', value: rate(n, t0), unit: 'records/s' });

    t0 = performance.now();
    await consumeRaw(url, queue, n - 1);
    results.push({ name: 'amqp.consume_raw', value: rate(n, t0), unit: 'records/s' });

    const reader = await open();
    t0 = performance.now();
    let delivered = 0;
    let onDelivered: (() => void) | null = null;
    await new Promise<void>((resolve, reject) => {
      reader
        .subscribe(null, {
          onEntry: () => {
            delivered++;
            onDelivered?.();
          },
          onCaughtUp: resolve,
        })
        .catch(reject);
    });
    results.push({ name: 'amqp.subscribe_to_caught_up', value: rate(delivered, t0), unit: 'records/s' });

    const samples: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const arrived = new Promise<void>((resolve) => {
        onDelivered = resolve;
      });
      const start = performance.now();
      await Promise.all([writer.publish(`${body}L${i}`, { id: `L${i}`, seq: n + i + 1 }), arrived]);
      samples.push(performance.now() - start);
    }
    onDelivered = null;
    samples.sort((a, b) => a - b);
    results.push(
      { name: 'amqp.latency_p50', value: round(percentile(samples, 0.5)), unit: 'ms' },
      { name: 'amqp.latency_p99', value: round(percentile(samples, 0.99)), unit: 'ms' },
    );
  } finally {
    await Promise.all(transports.map((t) => t.close()));
    await deleteStream(url, queue, exchange);
  }
  // The client on top of the transport (issue 4); loaded lazily, it imports the helpers above.
  const { runAmqpClientBench } = await import('./amqpClientBench');
  results.push(...(await runAmqpClientBench(url, n)));
  return results;
}

/** @internal Publishes `n` lines through `t` with at most PUBLISH_WINDOW unconfirmed. */
export async function publishWindowed(t: Transport, n: number, line: (i: number) => string): Promise<void> {
  let inFlight = 0;
  let failed: unknown = null;
  let wake: (() => void) | null = null;
  const settle = (): void => {
    inFlight--;
    const w = wake;
    wake = null;
    w?.();
  };
  for (let i = 0; i < n; i++) {
    while (inFlight >= PUBLISH_WINDOW) await new Promise<void>((r) => (wake = r));
    if (failed !== null) throw failed;
    inFlight++;
    t.publish(line(i), { id: `b${i}`, seq: i + 1 }).then(settle, (err: unknown) => {
      failed = err;
      settle();
    });
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  if (failed !== null) throw failed;
}

/** @internal Reads `queue` from the start with a bare amqplib consumer until `lastOffset`. */
export async function consumeRaw(url: string, queue: string, lastOffset: number): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.prefetch(BENCH_PREFETCH);
    const ackEvery = BENCH_PREFETCH / 2;
    let unacked = 0;
    await new Promise<void>((resolve, reject) => {
      ch.consume(
        queue,
        (msg) => {
          if (msg === null) return reject(new Error(`consumer of '${queue}' cancelled`));
          if (++unacked >= ackEvery) {
            ch.ack(msg, true);
            unacked = 0;
          }
          if (msg.properties.headers?.['x-stream-offset'] === lastOffset) resolve();
        },
        { noAck: false, arguments: { 'x-stream-offset': 'first' } },
      ).catch(reject);
    });
  } finally {
    await conn.close();
  }
}

/** @internal Deletes a bench stream and its exchange. */
export async function deleteStream(url: string, queue: string, exchange: string): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue);
    await ch.deleteExchange(exchange);
  } finally {
    await conn.close();
  }
}

const rate = (count: number, since: number): number => Math.round((count / (performance.now() - since)) * 1000);
const round = (x: number): number => Math.round(x * 100) / 100;
