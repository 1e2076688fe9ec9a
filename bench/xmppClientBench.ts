import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from '../src/core/client';
import { createSodiumCipher, formatSodiumHeader, parseRecordBinding } from '../src/core/crypto';
import type { StrategyRecord } from '../src/core/engine/records';
import { createXmppTransport } from '../src/transports/xmpp';
import { createLatencyProbe } from './clientLatency';
import { median, paired, percentile } from './results';
import { generateHistory } from '../test/support/generate';
import type { BenchResult } from './results';
import { registerXmppAccount } from '../test/support/xmppAccounts';
import { openRaw, type XmppBenchEnv } from './xmppBench';

const USER = 'user@local.host';
const LATENCY_SAMPLES = 200;
const WINDOW = 256;
/** Paired client/raw replays behind the ratio. */
const RUNS = 3;

/**
 * The client over XMPP on a fresh account (in-band registration, which the project's Prosody
 * allows on loopback): fills the archive with `n` sodium-encrypted records of a generated history,
 * then measures client replay from nothing to caught up (records/s) paired with a bare client's
 * fetch of the same archive (the ratio of the rates; goal ≥ 0.5), append latency (execute until
 * the writer sees its record accepted) and client-to-client latency (execute until another
 * client's onRecord), p50/p99.
 */
export async function runXmppClientBench(env: XmppBenchEnv, n = 10_000): Promise<BenchResult[]> {
  const account = await registerXmppAccount(env.service, env.domain, 'fkbench');
  const opts = { service: env.service, domain: env.domain, ...account };
  const logId = randomUUID();
  const cipher = await createSodiumCipher({ key: new Uint8Array(randomBytes(32)), logId });
  const clients: Client[] = [];
  const open = (onRecord?: (r: StrategyRecord) => void): Client => {
    const c = createClient({
      transport: createXmppTransport(opts),
      user: USER,
      cipher,
      ...(onRecord ? { onRecord } : {}),
    });
    clients.push(c);
    return c;
  };
  try {
    const writer = createXmppTransport(opts);
    await writer.connect();
    await writer.publish(formatSodiumHeader({ logId, salt: new Uint8Array(randomBytes(16)) }), {
      id: randomUUID(),
      seq: 0,
    });
    const lines = generateHistory(n, 7, USER);
    for (let i = 0; i < lines.length; i += WINDOW) {
      await Promise.all(
        lines.slice(i, i + WINDOW).map((line) => {
          const b = parseRecordBinding(line);
          if (b === null) throw new Error('generated line is not a record');
          return writer.publish(cipher.encryptLine(line, b), { id: randomUUID(), seq: b.seq });
        }),
      );
    }
    await writer.close();

    // Paired with a bare client paging the same archive: the client's rate as a share of the raw one.
    const raw = await openRaw({ ...env, ...account });
    let replayer: Client | null = null;
    let r: { a: number[]; b: number[]; ratio: number };
    try {
      r = await paired(
        RUNS,
        async () => {
          if (replayer !== null) await replayer.close();
          replayer = open();
          const t0 = performance.now();
          await replayer.start();
          const ms = performance.now() - t0;
          if (replayer.state.lastSeq !== n)
            throw new Error(`client replay ended at seq ${replayer.state.lastSeq} of ${n}`);
          return ms;
        },
        async () => {
          const t0 = performance.now();
          // Prosody stores every message twice (docs/xmpp.md, quirk 1): the raw client pages both rows.
          const rows = await raw.fetchAll(null);
          if (rows < n + 1) throw new Error(`raw fetch read ${rows} archive rows for ${n + 1} entries`);
          return performance.now() - t0;
        },
        (ms) => ms,
      );
    } finally {
      await raw.stop();
    }
    const replayMs = median(r.a);
    const rawMs = median(r.b);
    const caughtUp = replayer as unknown as Client;

    const probe = createLatencyProbe();
    const reader = open(probe.onRecord);
    await reader.start();
    const backlogs = caughtUp.state.tenant.users.get(USER)?.backlogs.values() ?? [];
    const { append, e2e } = await probe.measure(caughtUp, backlogs[backlogs.length - 1]?.uid ?? '', LATENCY_SAMPLES);
    return [
      {
        name: `xmpp.client ${n} records: replay to caught up`,
        value: Math.round((n / replayMs) * 1000),
        unit: 'records/s',
      },
      { name: `xmpp.client ${n} records: raw archive fetch`, value: Math.round((n / rawMs) * 1000), unit: 'records/s' },
      {
        name: `xmpp.client ${n} records: replay rate / raw fetch rate`,
        value: round(1 / r.ratio),
        unit: 'x raw',
        comparison: {
          what: `XMPP: client replay of ${n / 1000}k sodium records vs bare MAM fetch (rate)`,
          fk: `${Math.round((n / replayMs) * 1000)}/s`,
          baseline: `${Math.round((n / rawMs) * 1000)}/s`,
          ratio: round(1 / r.ratio),
          goal: { op: '>=', value: 0.5 },
        },
      },
      { name: 'xmpp.client.append_p50', value: round(percentile(append, 0.5)), unit: 'ms' },
      { name: 'xmpp.client.append_p99', value: round(percentile(append, 0.99)), unit: 'ms' },
      { name: 'xmpp.client.e2e_p50', value: round(percentile(e2e, 0.5)), unit: 'ms' },
      { name: 'xmpp.client.e2e_p99', value: round(percentile(e2e, 0.99)), unit: 'ms' },
    ];
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;
