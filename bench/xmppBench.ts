import { randomUUID } from 'node:crypto';
import { client, xml } from '@xmpp/client';
import type { Element } from '@xmpp/client';
import type { Transport } from '../src/core/transport';
import { createXmppTransport } from '../src/transports/xmpp';
import { DEFAULT_PAGE_SIZE } from '../src/transports/xmpp/options';
import { NS_MAM, NS_RSM, isLastPage, mamQuery, mamResultQueryId } from '../src/transports/xmpp/stanza';
import { median, paired, percentile, type BenchResult } from './results';
import { generateHistory } from '../test/support/generate';

/** The account the benchmark writes to. Its archive grows by the records published here. */
export interface XmppBenchEnv {
  readonly service: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
}

/**
 * Above this estimated duration (publish + replays) a size is reported as skipped, not run.
 * FK_BENCH_XMPP_BUDGET_S raises it (e.g. 400 runs the 100k case, about 3 minutes here).
 */
const BUDGET_MS = Number(process.env.FK_BENCH_XMPP_BUDGET_S ?? 120) * 1000;
const PUBLISH_WINDOW = 256;
const LATENCY_SAMPLES = 200;

const round = (x: number, digits = 0): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * @internal A bare `@xmpp/client` session that pages the archive without the transport: the
 * baseline the transport's and the client's replay rates are compared with (same server, same
 * page size, same run).
 */
export async function openRaw(env: XmppBenchEnv): Promise<{
  lastArchiveId: () => Promise<string | null>;
  fetchAll: (after: string | null) => Promise<number>;
  stop: () => Promise<void>;
}> {
  const c = client({ ...env, resource: `bench-raw-${randomUUID().slice(0, 8)}` });
  c.reconnect.stop();
  c.on('error', () => undefined);
  const jid = await c.start();
  const own = jid.bare().toString();
  let rows = 0;
  let current = '';
  c.on('stanza', (s: Element) => {
    if (mamResultQueryId(s) === current) rows++;
  });
  const page = async (iq: Element, qid: string): Promise<Element> => {
    current = qid;
    return c.iqCaller.request(iq, 60_000);
  };
  return {
    async lastArchiveId() {
      const qid = `last-${randomUUID()}`;
      const iq = xml(
        'iq',
        { type: 'set' },
        xml(
          'query',
          { xmlns: NS_MAM, queryid: qid },
          xml('set', { xmlns: NS_RSM }, xml('max', {}, '1'), xml('before')),
        ),
      );
      const fin = await page(iq, qid);
      return fin.getChild('fin', NS_MAM)?.getChild('set', NS_RSM)?.getChildText('last') ?? null;
    },
    async fetchAll(after) {
      let cursor = after;
      let total = 0;
      for (;;) {
        const qid = `raw-${randomUUID()}`;
        rows = 0;
        const fin = await page(mamQuery(qid, own, cursor, DEFAULT_PAGE_SIZE), qid);
        total += rows;
        cursor = fin.getChild('fin', NS_MAM)?.getChild('set', NS_RSM)?.getChildText('last') ?? cursor;
        if (isLastPage(fin, rows)) return total;
      }
    },
    stop: async () => {
      await c.stop().catch(() => undefined);
    },
  };
}

function transportFor(env: XmppBenchEnv): Transport {
  return createXmppTransport({ ...env, requestTimeoutMs: 120_000 });
}

/** Replays everything after `from` through a fresh transport; resolves with the time to catch up. */
async function timeReplay(env: XmppBenchEnv, from: string | null, expected: number): Promise<number> {
  const t = transportFor(env);
  try {
    await t.connect();
    let got = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      t.subscribe(from, {
        onEntry: () => {
          got++;
        },
        onCaughtUp: () =>
          got >= expected ? resolve() : reject(new Error(`replay delivered ${got} of ${expected} records`)),
      }).catch(reject);
    });
    return performance.now() - t0;
  } finally {
    await t.close();
  }
}

/**
 * XMPP benchmark against a real server: for each size, publishes that many generated history
 * lines to the account (pipelined, `PUBLISH_WINDOW` in flight), then measures the replay of exactly
 * those records through the transport and the raw archive fetch of the same range with a bare
 * client, in the same run; then publish→delivered latency (one record at a time, seen by a second
 * connected resource). Replay and raw fetch run in three interleaved pairs; the medians count. A size whose estimated duration exceeds about two minutes is reported as
 * skipped with its estimate. Results are returned, not printed (bench/index.ts prints).
 */
export async function runXmppBench(
  env: XmppBenchEnv,
  sizes: readonly number[] = [10_000, 100_000],
): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const raw = await openRaw(env);
  const writer = transportFor(env);
  try {
    await writer.connect();
    // Records per millisecond measured on the previous size, to estimate the next one.
    let rates: { publish: number; replay: number; raw: number } | null = null;
    for (const n of sizes) {
      if (rates !== null) {
        const estimateMs = n / rates.publish + 3 * (n / rates.replay + n / rates.raw);
        if (estimateMs > BUDGET_MS) {
          out.push({
            name: `xmpp ${n} records: skipped, estimated duration`,
            value: round(estimateMs / 1000),
            unit: 's',
          });
          continue;
        }
      }
      const start = await raw.lastArchiveId();
      const lines = generateHistory(n);
      const tp = performance.now();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < n) {
          const i = next++;
          await writer.publish(lines[i] ?? '', { id: randomUUID(), seq: i + 1 });
        }
      };
      await Promise.all(Array.from({ length: PUBLISH_WINDOW }, worker));
      const publishMs = performance.now() - tp;
      out.push({
        name: `xmpp ${n} records: publish (confirmed, ${PUBLISH_WINDOW} in flight)`,
        value: round((n / publishMs) * 1000),
        unit: 'records/s',
      });

      // Paired, interleaved: a WAL checkpoint or a load spike hits both sides of a pair.
      let rows = 0;
      const r = await paired(
        3,
        () => timeReplay(env, start, n),
        async () => {
          const tr = performance.now();
          rows = await raw.fetchAll(start);
          return performance.now() - tr;
        },
        (ms) => ms,
      );
      const replayMs = median(r.a);
      const rawMs = median(r.b);
      out.push({
        name: `xmpp ${n} records: replay through the transport`,
        value: round((n / replayMs) * 1000),
        unit: 'records/s',
      });
      out.push({
        name: `xmpp ${n} records: raw archive fetch, bare client (${rows} archive rows)`,
        value: round((n / rawMs) * 1000),
        unit: 'records/s',
      });
      out.push({
        name: `xmpp ${n} records: raw fetch time / transport replay time`,
        value: round(1 / r.ratio, 2),
        unit: 'x raw rate',
      });
      rates = { publish: n / publishMs, replay: n / replayMs, raw: n / rawMs };
    }

    const reader = transportFor(env);
    try {
      await reader.connect();
      const sent = new Map<string, number>();
      const latencies: number[] = [];
      let waiting: (() => void) | null = null;
      let caughtUp!: () => void;
      const ready = new Promise<void>((r) => (caughtUp = r));
      await reader.subscribe(await raw.lastArchiveId(), {
        onEntry: (e) => {
          const t0 = e.id === undefined ? undefined : sent.get(e.id);
          if (t0 === undefined) return;
          latencies.push(performance.now() - t0);
          waiting?.();
        },
        onCaughtUp: () => caughtUp(),
      });
      await ready;
      for (let i = 0; i < LATENCY_SAMPLES; i++) {
        const id = randomUUID();
        const delivered = new Promise<void>((r) => (waiting = r));
        sent.set(id, performance.now());
        await writer.publish(`latency probe ${i}`, { id, seq: i + 1 });
        await delivered;
      }
      latencies.sort((a, b) => a - b);
      out.push({
        name: 'xmpp publish→delivered latency p50 (other resource)',
        value: round(percentile(latencies, 0.5), 2),
        unit: 'ms',
      });
      out.push({
        name: 'xmpp publish→delivered latency p99 (other resource)',
        value: round(percentile(latencies, 0.99), 2),
        unit: 'ms',
      });
    } finally {
      await reader.close();
    }
  } finally {
    await writer.close();
    await raw.stop();
  }
  return out;
}
