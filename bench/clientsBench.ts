import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/app/config';
import { historyName } from '../src/app/historyName';
import { createTransportFor } from '../src/app/session';
import { silentLogger } from '../src/core/logger';
import { historyTopology } from '../src/transports/amqp/topology';
import { generateHistory } from '../test/support/generate';
import { registerXmppAccount } from '../test/support/xmppAccounts';
import { deleteStream } from './amqpBench';
import { fmtMs, runFk } from './proc';
import { median, paired, percentile, round, type BenchResult } from './results';

/** The brokers, as bench/index.ts resolves them. */
export interface BrokerEnv {
  readonly amqpUrl: string;
  readonly xmpp: { service: string; domain: string };
}

const COMMAND_PAIRS = 8;
/** Records in the histories the one-shot commands run on (generated, plaintext), per backend. */
const HISTORY = { amqp: 10_000, xmpp: 2_000 } as const;
const PUBLISH_WINDOW = 256;
const LATENCY_SAMPLES = 100;
const DEADLINE_MS = 60_000;

interface Backend {
  readonly kind: 'file' | 'amqp' | 'xmpp';
  readonly env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/**
 * Whole `fk` processes per backend, in one run:
 * - one-shot commands (`fk status`, `fk backlog create`) on RabbitMQ and XMPP next to the same
 *   command on a file holding the same generated history (HISTORY records), paired, each side
 *   with its cache warm (goal for RabbitMQ: ≤ 3x the file);
 * - client-to-client latency between two separate processes: a writer process executes, an
 *   independent reader process reports when it has applied the record (clientProcess.ts).
 * Histories are plaintext (`FK_ENCRYPTION=off`) on every backend, so only the backend differs.
 * A broker that does not answer is reported as not measured.
 */
export async function runClientsBench(brokers: BrokerEnv): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fk-bench-clients-'));
  const out: BenchResult[] = [];
  const file = fileBackend(dir, 'file');
  try {
    await runFk(['backlog', 'create', 'bench', '--id', 'bench-backlog'], { env: file.env });
    out.push(...(await latency(file)));
    for (const open of [() => amqpBackend(dir, brokers.amqpUrl), () => xmppBackend(dir, brokers.xmpp)]) {
      let b: Backend;
      try {
        b = await open();
      } catch (err) {
        out.push({ name: `clients: broker not measured: ${(err as Error).message}`, value: Number.NaN, unit: '' });
        continue;
      }
      try {
        const n = HISTORY[b.kind as 'amqp' | 'xmpp'];
        const sameSize = fileBackend(dir, `file-${b.kind}`);
        const lines = generateHistory(n, 42, b.env.FK_USER as string);
        writeFileSync(sameSize.env.FK_BACKEND as string, `${lines.join('\n')}\n`);
        await fill(b, lines);
        for (const env of [b.env, sameSize.env])
          await runFk(['backlog', 'create', 'bench', '--id', 'bench-backlog'], { env });
        out.push(...(await commands(b, sameSize, n)));
        out.push(...(await latency(b)));
      } finally {
        await b.cleanup();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Publishes a generated history to a broker backend, `PUBLISH_WINDOW` in flight. */
async function fill(b: Backend, lines: readonly string[]): Promise<void> {
  const t = await createTransportFor(loadConfig({}, b.env), silentLogger);
  try {
    await t.connect();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < lines.length) {
        const i = next++;
        await t.publish(lines[i] as string, { id: randomUUID(), seq: i + 1 });
      }
    };
    await Promise.all(Array.from({ length: PUBLISH_WINDOW }, worker));
  } finally {
    await t.close();
  }
}

function baseEnv(dir: string, name: string): NodeJS.ProcessEnv {
  return {
    FK_ENCRYPTION: 'off',
    FK_LOG_LEVEL: 'warn',
    XDG_CACHE_HOME: join(dir, name, 'cache'),
    XDG_CONFIG_HOME: join(dir, name, 'config'),
    FK_PASSPHRASE: '',
  };
}

function fileBackend(dir: string, name: string): Backend {
  const env = { ...baseEnv(dir, name), FK_BACKEND: join(dir, `${name}.txt`), FK_USER: 'bench@local.host' };
  return { kind: 'file', env, cleanup: async () => undefined };
}

async function amqpBackend(dir: string, url: string): Promise<Backend> {
  const user = `bench-${randomUUID().slice(0, 8)}@local.host`;
  const env = { ...baseEnv(dir, 'amqp'), FK_BACKEND: url, FK_USER: user };
  const { queue, exchange } = historyTopology(historyName(user));
  return { kind: 'amqp', env, cleanup: () => deleteStream(url, queue, exchange).catch(() => undefined) };
}

async function xmppBackend(dir: string, xmpp: BrokerEnv['xmpp']): Promise<Backend> {
  const account = await registerXmppAccount(xmpp.service, xmpp.domain, 'fkbench');
  const env = {
    ...baseEnv(dir, 'xmpp'),
    // the password in the URL (not FK_XMPP_PASSWORD), so that fill() builds the transport from env alone
    FK_BACKEND: `xmpp://${account.username}:${encodeURIComponent(account.password)}@${xmpp.domain}?service=${xmpp.service}`,
    FK_USER: 'bench@local.host',
  };
  return { kind: 'xmpp', env, cleanup: async () => undefined };
}

/** The same commands on the broker and on the file, A/B interleaved. */
async function commands(b: Backend, file: Backend, records: number): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const cases: Array<[string, () => string[]]> = [
    ['fk status', () => ['status']],
    ['fk backlog create', () => ['backlog', 'create', `b-${randomUUID().slice(0, 8)}`]],
  ];
  for (const [what, args] of cases) {
    const r = await paired(
      COMMAND_PAIRS,
      () => runFk(args(), { env: b.env }),
      () => runFk(args(), { env: file.env }),
      (c) => c.wallMs,
    );
    const [brokerMs, fileMs] = [median(r.a.map((c) => c.wallMs)), median(r.b.map((c) => c.wallMs))];
    out.push({
      name: `${b.kind}: ${what} / the same on a file, wall`,
      value: round(r.ratio),
      unit: 'x',
      comparison: {
        what: `\`${what}\`, ${records / 1000}k records, on ${b.kind === 'amqp' ? 'RabbitMQ' : 'XMPP'} vs on a file (wall)`,
        fk: fmtMs(brokerMs),
        baseline: fmtMs(fileMs),
        ratio: round(r.ratio),
        ...(b.kind === 'amqp' ? { goal: { op: '<=' as const, value: 3 } } : {}),
      },
    });
  }
  return out;
}

/** Line-by-line access to a child's stdout, waiting for a line that matches. */
function lineWaiter(child: ChildProcess): (prefix: string) => Promise<string[]> {
  const waiting = new Map<string, (words: string[]) => void>();
  const early = new Map<string, string[]>();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const exited = new Promise<never>((_, reject) =>
    child.on('exit', (code) => reject(new Error(`client process exited ${code}: ${stderr.trim().slice(0, 400)}`))),
  );
  exited.catch(() => undefined);
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const words = line.split(' ');
    const key = words.slice(0, 2).join(' ');
    const w = waiting.get(key) ?? waiting.get(words[0] as string);
    if (w) w(words);
    else early.set(key, words);
  });
  return (prefix) => {
    const got = early.get(prefix);
    if (got) {
      early.delete(prefix);
      return Promise.resolve(got);
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no '${prefix}' from the client process in ${DEADLINE_MS} ms`)),
        DEADLINE_MS,
      );
    });
    const seen = new Promise<string[]>((resolve) => waiting.set(prefix, resolve));
    return Promise.race([seen, deadline, exited]).finally(() => {
      clearTimeout(timer);
      waiting.delete(prefix);
    });
  };
}

/** Writer and reader in two separate processes: append (writer sees it accepted) and client-to-client. */
async function latency(b: Backend): Promise<BenchResult[]> {
  const script = join(__dirname, 'clientProcess.js');
  const start = (mode: string): ChildProcess =>
    spawn(process.execPath, [script, mode], { env: { ...process.env, ...b.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const reader = start('reader');
  const writer = start('writer');
  try {
    const fromReader = lineWaiter(reader);
    const fromWriter = lineWaiter(writer);
    await Promise.all([fromReader('ready'), fromWriter('ready')]);
    const append: number[] = [];
    const e2e: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const uid = `probe-${i}-${randomUUID().slice(0, 8)}`;
      const seen = fromReader(`seen ${uid}`);
      const done = fromWriter(`done ${uid}`);
      writer.stdin?.write(`${uid} bench-backlog\n`);
      const [d, s] = await Promise.all([done, seen]);
      const t0 = Number(d[2]);
      append.push(Number(d[3]) - t0);
      e2e.push(Number(s[2]) - t0);
    }
    const p = (xs: number[], q: number): number => round(percentile(xs, q));
    return [
      { name: `${b.kind}: append (writer process sees it accepted) p50`, value: p(append, 0.5), unit: 'ms' },
      { name: `${b.kind}: append p99`, value: p(append, 0.99), unit: 'ms' },
      { name: `${b.kind}: client-to-client (another process applied it) p50`, value: p(e2e, 0.5), unit: 'ms' },
      { name: `${b.kind}: client-to-client p99`, value: p(e2e, 0.99), unit: 'ms' },
    ];
  } finally {
    writer.stdin?.end();
    reader.stdin?.end();
    for (const c of [writer, reader]) if (c.exitCode === null) c.kill();
  }
}
