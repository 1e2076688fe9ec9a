import { manualClock } from '../../src/core/clock';
import type { FkEvent } from '../../src/core/notify/notifications';
import { formatInstant } from '../../src/core/engine/time';
import { amqpEndpoint, describeWith } from '../support/brokers';
import {
  cleanups,
  plan,
  S,
  sandbox,
  seq,
  sessionWriter,
  settled,
  startDaemon,
  T0,
  types,
} from '../support/daemonSandbox';
import { startFaultProxy } from '../support/faultProxy';
import { startWebhookReceiver, waitUntil } from '../support/webhookReceiver';

jest.setTimeout(60_000);

/**
 * Issue 11.2: a daemon cut off from the broker while another client voids the pomodoro during
 * its rest. Records apply at their own timestamps: the void, stamped before the rest's end but
 * read after the daemon rang it, is still valid for the daemon as for every other reader.
 */
describeWith(amqpEndpoint(), 'fk daemon across a broker outage (RabbitMQ, fault proxy)', ({ url }) => {
  it('applies a void stamped during the outage, retracts the rest.finished it sent meanwhile, and keeps following', async () => {
    const base = new URL(url);
    const proxy = await startFaultProxy(base.hostname, Number(base.port || 5672));
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const hook = await startWebhookReceiver(null);
    cleanups.push(() => hook.close());
    const sb = sandbox({ targets: [{ type: 'webhook', url: hook.url, retry: { minMs: 10, maxMs: 100 } }] }, url);
    const clock = manualClock(T0);
    const d = await startDaemon(sb, clock, {}, { over: { backend: viaProxy.toString() } });
    const w = (await sessionWriter(sb, clock)).client;
    await plan(w, sb.user);
    const started = await w.execute('StartTimer', ['w1', '60', '30']);
    await waitUntil(() => seq(d) >= started.seq, 'the daemon saw the StartTimer');
    clock.set(T0 + 60 * S);
    d.tick();
    await hook.waitFor((r) => r.some((x) => x.event.type === 'work.finished'), 'work.finished');

    // The outage: the daemon loses the broker; the writer voids the pomodoro during its rest.
    proxy.refuse = true;
    proxy.dropAll();
    await waitUntil(() => d.status().users[0]?.online === false, 'the daemon offline');
    clock.set(T0 + 70 * S);
    const voided = await w.execute('VoidPomodoro', ['w1']);
    // Not knowing of the void, the offline daemon rings the end of the rest.
    clock.set(T0 + 90 * S);
    d.tick();
    await hook.waitFor((r) => r.some((x) => x.event.type === 'rest.finished'), 'rest.finished while offline');
    clock.set(T0 + 95 * S);
    const later = await w.execute('CreateWorkitem', ['w2', 'b1', 'After the outage']);

    proxy.refuse = false;
    await waitUntil(
      () => seq(d) >= later.seq || d.status().users[0]?.historyError != null,
      'the daemon caught up after the outage',
      45_000,
    );
    expect(d.status().users[0]).toMatchObject({ historyError: null, lastSeq: later.seq, timer: { state: 'idle' } });
    await hook.waitFor((r) => r.some((x) => x.event.type === 'pomodoro.voided'), 'pomodoro.voided');
    const restFinished = hook.received.find((x) => x.event.type === 'rest.finished')?.event as FkEvent;
    const voidEvent = hook.received.find((x) => x.event.type === 'pomodoro.voided')?.event;
    expect(voidEvent).toMatchObject({
      at: formatInstant(T0 + 70 * S),
      phase: 'rest',
      seq: voided.seq,
      retracts: [restFinished.id],
    });
    await waitUntil(() => d.ready(), 'ready again');

    // Still following this user: the next pomodoro is announced.
    clock.set(T0 + 100 * S);
    const again = await w.execute('StartTimer', ['w1', '60', '30']);
    await waitUntil(() => seq(d) >= again.seq, 'the daemon saw the next StartTimer');
    await hook.waitFor((r) => r.filter((x) => x.event.type === 'work.started').length === 2, 'the second work.started');
    await waitUntil(() => settled(d), 'outbox drained');
    expect(types(hook)).toEqual(['work.started', 'work.finished', 'rest.finished', 'pomodoro.voided', 'work.started']);
    expect(hook.received.some((x) => x.event.type === 'daemon.conflict')).toBe(false);
  });
});
