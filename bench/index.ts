import { cpus, loadavg } from 'node:os';
import { comparisonTable, type BenchResult, type Comparison } from './results';
import { runReplayBench } from './replayBench';

/**
 * `npm run bench`: every benchmark of the project, printed as `name: value unit` lines.
 * Broker benchmarks run against FK_BENCH_AMQP_URL / FK_TEST_AMQP_URL and FK_TEST_XMPP_* (default:
 * the local RabbitMQ and the project's Prosody, which `npm run bench` starts through
 * scripts/services.sh); a missing broker is reported as not measured, not hidden.
 */
type Bench = { name: string; run: () => Promise<BenchResult[]> };

function optional(name: string, load: () => Promise<BenchResult[]>): Bench {
  return { name, run: load };
}

async function main(): Promise<void> {
  const only = process.argv[2];
  const amqpUrl = process.env.FK_BENCH_AMQP_URL ?? process.env.FK_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const benches: Bench[] = [
    optional('startup', async () => (await import('./processBench')).runStartupBench()),
    optional('state', async () => (await import('./processBench')).runStateBench()),
    optional('snapshot', async () => (await import('./processBench')).runSnapshotBench()),
    { name: 'replay', run: () => runReplayBench() },
    optional('crypto', async () => (await import('./cryptoBench')).runCryptoBench()),
    optional('amqp', async () => (await import('./amqpBench')).runAmqpBench(amqpUrl)),
    optional('xmpp', async () => {
      const service = process.env.FK_TEST_XMPP_SERVICE ?? 'xmpp://127.0.0.1:5222';
      const { runXmppBench } = await import('./xmppBench');
      const { runXmppClientBench } = await import('./xmppClientBench');
      const env = {
        service,
        domain: process.env.FK_TEST_XMPP_DOMAIN ?? 'localhost',
        username: process.env.FK_TEST_XMPP_USER ?? 'fk-test',
        password: process.env.FK_TEST_XMPP_PASSWORD ?? 'fk-test-pass',
      };
      return [...(await runXmppBench(env)), ...(await runXmppClientBench(env))];
    }),
    optional('clients', async () =>
      (await import('./clientsBench')).runClientsBench({
        amqpUrl,
        xmpp: {
          service: process.env.FK_TEST_XMPP_SERVICE ?? 'xmpp://127.0.0.1:5222',
          domain: process.env.FK_TEST_XMPP_DOMAIN ?? 'localhost',
        },
      }),
    ),
    optional('daemon', async () => (await import('./daemonBench')).runDaemonBench()),
    optional('tools', async () => (await import('./toolsBench')).runToolsBench()),
    optional('serve', async () => (await import('./serveBench')).runServeBench(amqpUrl)),
  ];
  let failed = 0;
  const comparisons: Comparison[] = [];
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  process.stdout.write(`# ${cpus().length} CPUs, load average at start: ${load()}\n`);
  for (const b of benches) {
    if (only && b.name !== only) continue;
    process.stdout.write(`# ${b.name}\n`);
    try {
      for (const r of await b.run()) {
        process.stdout.write(`${r.name}: ${r.value} ${r.unit}\n`);
        if (r.comparison) comparisons.push(r.comparison);
      }
    } catch (err) {
      failed++;
      process.stdout.write(`${b.name}: not measured: ${(err as Error).message}\n`);
    }
  }
  process.stdout.write(
    `\n# summary: fk next to its baseline, A/B interleaved in this run (load average at end: ${load()})\n`,
  );
  process.stdout.write(`${comparisonTable(comparisons)}\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
