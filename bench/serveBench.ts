import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sodium from 'libsodium-wrappers-sumo';
import { historyName } from '../src/app/historyName';
import { SERVED_HEADER } from '../src/core/engine/seed';
import { formatAccounts } from '../src/serve/accountFile';
import { fileLayout } from '../src/serve/backends/file';
import { createAmqpTransport } from '../src/transports/amqp';
import { historyTopology } from '../src/transports/amqp/topology';
import { readLines } from '../src/transports/file';
import { generateHistory } from '../test/support/generate';
import { rabbitmqctl } from '../test/support/rabbitmqctl';
import { consumeRaw, deleteStream, publishWindowed } from './amqpBench';
import { median, paired, percentile, round, type BenchResult } from './results';
import { benchLine, signIn, startBenchServer, type BenchConnection } from './serveClient';

/** Records in the replayed history (the 100k). */
const REPLAY_LINES = 100_000;
const PAIRS = 5;
const LATENCY_SAMPLES = 500;
const IDLE_CONNECTIONS = 500;
const PASSWORD = 'bench-password';

/**
 * `fk serve` (the built CLI, its own process) measured with bare WebSocket clients:
 * - replay of a REPLAY_LINES history to one client, from a server that has to open it (cold) and
 *   from one that holds it open (warm), next to the backend's raw read of the same history
 *   (file: fk's line reader; RabbitMQ: a bare amqplib consumer), paired A/B, on the file backend
 *   and on RabbitMQ (goal on RabbitMQ: the cold replay at least half the raw read's rate);
 * - fan-out latency: one client sends a record, another connected client receives it (goal p50 <
 *   10 ms on loopback), per backend;
 * - IDLE_CONNECTIONS signed-in idle connections held, with the server's resident memory.
 * Bench accounts on the file backend use a cheap Argon2id hash (1 pass, 8 MiB) so that hundreds of
 * sign-ins measure the server, not the password hash (0.5 s each with the real parameters).
 */
export async function runServeBench(amqpUrl: string): Promise<BenchResult[]> {
  await sodium.ready;
  const out: BenchResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fk-bench-serve-'));
  try {
    out.push(...(await fileBench(dir)));
    try {
      out.push(...(await amqpBench(amqpUrl)));
    } catch (err) {
      out.push({ name: `serve.amqp: not measured: ${(err as Error).message}`, value: Number.NaN, unit: '' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function cheapAccounts(dir: string, emails: readonly string[]): void {
  const hash = sodium.crypto_pwhash_str(PASSWORD, 1, 8 * 1024 * 1024);
  writeFileSync(fileLayout(dir).accounts, formatAccounts(new Map(emails.map((e) => [e, hash]))), { mode: 0o600 });
}

const rate = (lines: number, ms: number): number => Math.round((lines / ms) * 1000);

/** Replay figures for one backend: cold and warm `fk serve` replays vs the raw read. */
async function replayFigures(
  kind: string,
  url: string,
  email: string,
  rawRead: () => Promise<number>,
  coldUrl: string,
): Promise<BenchResult[]> {
  const replay = async (u: string): Promise<{ lines: number; ms: number }> => {
    const c = await signIn(u, email, PASSWORD);
    const r = { lines: c.replayed, ms: c.ms };
    await c.close();
    if (r.lines < REPLAY_LINES) throw new Error(`${kind}: replayed ${r.lines} of ${REPLAY_LINES} lines`);
    await new Promise((res) => setTimeout(res, 50)); // let a lingering history close (cold server)
    return r;
  };
  const raw = async (): Promise<{ lines: number; ms: number }> => {
    const t0 = performance.now();
    const lines = await rawRead();
    return { lines, ms: performance.now() - t0 };
  };
  const key = (r: { lines: number; ms: number }): number => r.lines / r.ms;
  const cold = await paired(PAIRS, () => replay(coldUrl), raw, key);
  // Warm: a signed-in connection (its first Replay asks for nothing) asks for the whole history.
  const holder = await signIn(url, email, PASSWORD, 999_999_999);
  const again = async (): Promise<{ lines: number; ms: number }> => {
    const r = await holder.replay(0);
    if (r.lines < REPLAY_LINES) throw new Error(`${kind}: replayed ${r.lines} of ${REPLAY_LINES} lines`);
    return r;
  };
  const warm = await paired(PAIRS, again, raw, key);
  await holder.close();
  const best = (rs: Array<{ lines: number; ms: number }>): number => Math.max(...rs.map((r) => rate(r.lines, r.ms)));
  return [
    { name: `serve.${kind}.replay_cold_100k`, value: best(cold.a), unit: 'lines/s (sign-in, open, replay)' },
    {
      name: `serve.${kind}.replay_warm_100k`,
      value: best(warm.a),
      unit: 'lines/s (Replay(0) on a signed-in connection, history open)',
    },
    { name: `serve.${kind}.raw_read_100k`, value: best(cold.b), unit: 'lines/s' },
    {
      name: `serve.${kind}.replay_cold_vs_raw`,
      value: round(cold.ratio),
      unit: 'ratio',
      comparison: {
        what: `fk serve on ${kind}: replay of 100k lines to one client, server opens the history, vs raw read (rate)`,
        fk: `${round(median(cold.a.map((r) => rate(r.lines, r.ms))) / 1000, 1)}k/s`,
        baseline: `${round(median(cold.b.map((r) => rate(r.lines, r.ms))) / 1000, 1)}k/s`,
        ratio: round(cold.ratio),
        ...(kind === 'amqp' ? { goal: { op: '>=' as const, value: 0.5 } } : {}),
      },
    },
    {
      name: `serve.${kind}.replay_warm_vs_raw`,
      value: round(warm.ratio),
      unit: 'ratio',
      comparison: {
        what: `fk serve on ${kind}: replay of 100k lines to one client, history held open, vs raw read (rate)`,
        fk: `${round(median(warm.a.map((r) => rate(r.lines, r.ms))) / 1000, 1)}k/s`,
        baseline: `${round(median(warm.b.map((r) => rate(r.lines, r.ms))) / 1000, 1)}k/s`,
        ratio: round(warm.ratio),
        goal: { op: '>=', value: 0.5 },
      },
    },
  ];
}

/** One client writes, another connected client of the same account receives: ms per line. */
async function fanOut(kind: string, url: string, email: string): Promise<BenchResult[]> {
  const a = await signIn(url, email, PASSWORD);
  const b = await signIn(url, email, PASSWORD);
  let seq = a.replayed; // positions = seqs (a fresh account: its seed)
  const samples: number[] = [];
  try {
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      seq++;
      const line = benchLine(seq, email, 'CreateBacklog', [`b${seq}`, 'Fan-out']);
      const got = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${kind}: line ${seq} not fanned out in 30 s`)), 30_000);
        b.onLine = (l) => {
          if (l === line) {
            clearTimeout(timer);
            resolve();
          }
        };
        a.onLine = (l) => {
          if (l.includes(': Error(')) reject(new Error(`${kind}: ${l}`));
        };
      });
      const t0 = performance.now();
      a.ws.send(line);
      await got;
      samples.push(performance.now() - t0);
    }
  } finally {
    await a.close();
    await b.close();
  }
  return [
    { name: `serve.${kind}.fanout_p50`, value: round(percentile(samples, 0.5)), unit: 'ms' },
    { name: `serve.${kind}.fanout_p99`, value: round(percentile(samples, 0.99)), unit: 'ms' },
  ];
}

async function fileBench(dir: string): Promise<BenchResult[]> {
  const backend = join(dir, 'file');
  mkdirSync(fileLayout(backend).histories, { recursive: true });
  const big = 'replay@bench.example.org';
  const small = 'fanout@bench.example.org';
  const idle = 'idle@bench.example.org';
  cheapAccounts(backend, [big, small, idle]);
  const path = fileLayout(backend).history(big);
  writeFileSync(path, `${[SERVED_HEADER, ...generateHistory(REPLAY_LINES, 42, big)].join('\n')}\n`);
  const rawRead = async (): Promise<number> => {
    let n = 0;
    readLines(path, (text) => void (text.startsWith('#') || n++));
    return n;
  };
  const out: BenchResult[] = [];
  const server = await startBenchServer(backend, [
    '--max-connections-per-account',
    String(IDLE_CONNECTIONS + 10),
    '--idle-timeout',
    '3600',
  ]);
  const cold = await startBenchServer(backend, ['--linger', '0.001']);
  try {
    out.push(...(await replayFigures('file', server.url, big, rawRead, cold.url)));
    out.push(...(await bareWsFloor(server.url, big, path)));
    out.push(...(await fanOut('file', server.url, small)));
    out.push(...(await idleConnections(server, idle)));
  } finally {
    await cold.stop();
    await server.stop();
  }
  return out;
}

/**
 * A page-cached file reads faster than any socket carries it: next to the file's raw read, the
 * warm replay is also paired with a bare `ws` server (own process) sending the same lines as
 * prebuilt frames, the floor for any WebSocket server.
 */
async function bareWsFloor(url: string, email: string, path: string): Promise<BenchResult[]> {
  const child = spawn(process.execPath, [join(__dirname, 'bareWsServer.js'), path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        const m = /listening (\d+)/.exec(buf);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`bare ws server exited ${String(code)}`)));
    });
    const fk = await signIn(url, email, PASSWORD, 999_999_999);
    const bare = await signIn(`ws://127.0.0.1:${port}`, email, PASSWORD, 999_999_999);
    const r = await paired(
      PAIRS,
      () => fk.replay(0),
      () => bare.replay(0),
      (x) => x.lines / x.ms,
    );
    await fk.close();
    await bare.close();
    return [
      {
        name: 'serve.file.replay_warm_vs_bare_ws',
        value: round(r.ratio),
        unit: 'ratio',
        comparison: {
          what: 'fk serve: replay of 100k lines to one client, history held open, vs a bare ws server sending the same frames (rate)',
          fk: `${round(median(r.a.map((x) => rate(x.lines, x.ms))) / 1000, 1)}k/s`,
          baseline: `${round(median(r.b.map((x) => rate(x.lines, x.ms))) / 1000, 1)}k/s`,
          ratio: round(r.ratio),
        },
      },
    ];
  } finally {
    child.kill('SIGTERM');
  }
}

async function idleConnections(
  server: Awaited<ReturnType<typeof startBenchServer>>,
  email: string,
): Promise<BenchResult[]> {
  (await signIn(server.url, email, PASSWORD)).close(); // the account seeded and its history open
  await new Promise((r) => setTimeout(r, 200));
  const before = server.rssMb();
  const conns: BenchConnection[] = [];
  const t0 = performance.now();
  for (let i = 0; i < IDLE_CONNECTIONS; i += 25) {
    conns.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(25, IDLE_CONNECTIONS - i) }, () => signIn(server.url, email, PASSWORD)),
      )),
    );
  }
  const openMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const after = server.rssMb();
  const open = conns.filter((c) => c.ws.readyState === c.ws.OPEN).length;
  await Promise.all(conns.map((c) => c.close()));
  return [
    {
      name: 'serve.idle_connections_held',
      value: open,
      unit: `connections (of ${IDLE_CONNECTIONS}, signed in, 1 s idle)`,
    },
    { name: 'serve.idle_connections_open_time', value: Math.round(openMs), unit: 'ms (25 sign-ins at a time)' },
    { name: 'serve.rss_before', value: round(before, 1), unit: 'MiB' },
    { name: 'serve.rss_with_idle_connections', value: round(after, 1), unit: 'MiB' },
    {
      name: 'serve.rss_per_idle_connection',
      value: round(((after - before) * 1024) / IDLE_CONNECTIONS, 1),
      unit: 'KiB',
    },
  ];
}

async function amqpBench(amqpUrl: string): Promise<BenchResult[]> {
  const base = new URL(amqpUrl);
  const backend = `amqp://${base.host}/`;
  const tag = randomUUID().slice(0, 8);
  const big = `replay-${tag}@bench.example.org`;
  const small = `fanout-${tag}@bench.example.org`;
  const users = [big, small];
  for (const u of users) {
    rabbitmqctl('add_user', u, PASSWORD);
    const p = historyTopology(historyName(u)).permissionPattern;
    rabbitmqctl('set_permissions', '-p', '/', u, p, p, p);
  }
  const topo = historyTopology(historyName(big));
  const out: BenchResult[] = [];
  try {
    const writer = createAmqpTransport({ url: amqpUrl, history: historyName(big) });
    await writer.connect();
    const lines = generateHistory(REPLAY_LINES, 42, big);
    await publishWindowed(writer, lines.length, (i) => lines[i] as string);
    await writer.close();
    const rawRead = async (): Promise<number> => {
      await consumeRaw(amqpUrl, topo.queue, REPLAY_LINES - 1);
      return REPLAY_LINES;
    };
    const server = await startBenchServer(backend);
    const cold = await startBenchServer(backend, ['--linger', '0.001']);
    try {
      out.push(...(await replayFigures('amqp', server.url, big, rawRead, cold.url)));
      out.push(...(await fanOut('amqp', server.url, small)));
    } finally {
      await cold.stop();
      await server.stop();
    }
  } finally {
    for (const u of users) {
      const t = historyTopology(historyName(u));
      await deleteStream(amqpUrl, t.queue, t.exchange).catch(() => undefined);
      try {
        rabbitmqctl('delete_user', u);
      } catch {
        /* gone */
      }
    }
  }
  return out;
}
