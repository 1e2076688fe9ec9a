import { runAmqpClientBench } from '../../bench/amqpClientBench';
import { amqpEndpoint, describeWith } from '../support/brokers';

describeWith(amqpEndpoint(), 'runAmqpClientBench', ({ url }) => {
  it('reports replay next to the raw rate, replica start and append/end-to-end latency', async () => {
    const results = await runAmqpClientBench(url, 2000);
    expect(results.map((r) => r.name)).toEqual([
      'amqp.client.consume_raw',
      'amqp.client.replay',
      'amqp.client.replay_vs_raw',
      'amqp.client.replay_writing_replica',
      'amqp.client.start_from_replica',
      'amqp.client.append_p50',
      'amqp.client.append_p99',
      'amqp.client.e2e_p50',
      'amqp.client.e2e_p99',
    ]);
    for (const r of results) expect(r.value).toBeGreaterThan(0);
  }, 60_000);
});
