import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { client as xmppClient, xml, type Element } from '@xmpp/client';
import type { Daemon } from '../../src/daemon/runtime';
import { manualClock } from '../../src/core/clock';
import type { FkEvent } from '../../src/core/notify/notifications';
import { formatInstant } from '../../src/core/engine/time';
import { amqpEndpoint, describeWith, xmppEndpoint } from '../support/brokers';
import {
  act,
  cleanups,
  fileWriter,
  plan,
  S,
  sandbox,
  sessionWriter,
  seq,
  settled,
  startDaemon,
  T0,
  types,
  type ManualClock,
  type Sandbox,
} from '../support/daemonSandbox';
import { registerXmppAccount } from '../support/xmppAccounts';
import { startWebhookReceiver, waitUntil, type WebhookReceiver } from '../support/webhookReceiver';

jest.setTimeout(30_000);

const SECRET = 'test-secret';

/** A daemon on a fresh file history forwarding to a local webhook, on a manual clock, with a writer that planned w1. */
async function webhookDaemon(): Promise<{
  hook: WebhookReceiver;
  sb: Sandbox;
  clock: ManualClock;
  d: Daemon;
  w: Awaited<ReturnType<typeof fileWriter>>;
}> {
  const hook = await startWebhookReceiver(null);
  cleanups.push(() => hook.close());
  const sb = sandbox({ targets: [{ type: 'webhook', url: hook.url }] });
  const clock = manualClock(T0);
  const d = await startDaemon(sb, clock);
  const w = await fileWriter(sb, clock);
  await plan(w, sb.user);
  return { hook, sb, clock, d, w };
}

describe('fk daemon runtime on a file history (manual clock)', () => {
  it('rings work.finished and rest.finished exactly at their planned instants and signs every webhook', async () => {
    const hook = await startWebhookReceiver(SECRET);
    cleanups.push(() => hook.close());
    const sb = sandbox({
      targets: [{ type: 'webhook', url: hook.url, secret: SECRET, retry: { minMs: 10, maxMs: 50 } }],
    });
    const clock = manualClock(T0 - 60 * S);
    const d = await startDaemon(sb, clock);
    const w = await fileWriter(sb, clock);
    await plan(w, sb.user);
    clock.set(T0);
    await act(w, [d], 'StartTimer', 'w1', '1500', '300');
    await hook.waitFor((r) => r.some((x) => x.event.type === 'work.started'), 'work.started');

    expect(d.nextWakeAt()).toBe(T0 + 1500 * S);
    clock.set(T0 + 1500 * S - 1000);
    d.tick();
    expect(d.status().users[0]?.timer?.state).toBe('work');
    await waitUntil(() => settled(d), 'outbox drained');
    expect(types(hook)).toEqual(['work.started']);

    clock.set(T0 + 1500 * S);
    d.tick();
    await hook.waitFor((r) => r.some((x) => x.event.type === 'work.finished'), 'work.finished');
    expect(d.nextWakeAt()).toBe(T0 + 1800 * S);
    clock.set(T0 + 1800 * S);
    d.tick();
    await hook.waitFor((r) => r.some((x) => x.event.type === 'rest.finished'), 'rest.finished');

    expect(types(hook)).toEqual(['work.started', 'work.finished', 'rest.finished']);
    const byType = (t: string): FkEvent => (hook.received.find((x) => x.event.type === t) as { event: FkEvent }).event;
    expect(byType('work.finished')).toMatchObject({
      at: formatInstant(T0 + 1500 * S),
      user: sb.user,
      workitem: { uid: 'w1', name: 'Write the report' },
      pomodoro: 'Pomodoro 1',
    });
    expect(byType('rest.finished').at).toBe(formatInstant(T0 + 1800 * S));
    expect(hook.received.every((x) => x.signatureValid)).toBe(true);
    expect(hook.received[0]?.headers['x-fk-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(d.nextWakeAt()).toBeNull();

    const http = d.http as { port: number };
    const status = (await (await fetch(`http://127.0.0.1:${http.port}/status`)).json()) as {
      users: Array<{ timer: { state: string }; online: boolean; lastSeq: number }>;
    };
    expect(status.users[0]).toMatchObject({ online: true, lastSeq: 5, timer: { state: 'idle' } });
    expect((await fetch(`http://127.0.0.1:${http.port}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
    expect(metrics).toContain('fk_daemon_events_delivered_total{target="webhook"} 4');
    expect(metrics).toMatch(/fk_daemon_last_seq\{user="[^"]+",backend="[^"]+"\} 5/);
    expect(metrics).toContain('fk_daemon_sessions_online 1');
  });

  it('holds a transition that a record rang early (seal margin) until its planned instant', async () => {
    const { hook, clock, d, w } = await webhookDaemon();
    await act(w, [d], 'StartTimer', 'w1', '60', '30');
    clock.set(T0 + 59.5 * S);
    await act(w, [d], 'AddInterruption', 'w1', 'phone', '');
    await hook.waitFor((r) => r.some((x) => x.event.type === 'interruption.added'), 'interruption.added');
    expect(types(hook)).toEqual(['work.started', 'interruption.added']);
    expect(d.nextWakeAt()).toBe(T0 + 60 * S);
    clock.set(T0 + 60 * S);
    d.tick();
    await hook.waitFor((r) => r.some((x) => x.event.type === 'work.finished'), 'work.finished');
    expect(hook.received.find((x) => x.event.type === 'work.finished')?.event.at).toBe(formatInstant(T0 + 60 * S));
  });

  it.each([
    ['drop', ['work.started', 'interruption.added', 'rest.finished']],
    ['send', ['work.started', 'work.finished', 'interruption.added', 'rest.finished']],
  ])(
    'late: %s — a transition due while no daemon ran is applied on start, never rung in the past; actions meanwhile are sent',
    async (late, expected) => {
      const hook = await startWebhookReceiver(null);
      cleanups.push(() => hook.close());
      const sb = sandbox({ late, targets: [{ type: 'webhook', url: hook.url }] });
      const clock = manualClock(T0);
      const first = await startDaemon(sb, clock);
      const w = await fileWriter(sb, clock);
      await plan(w, sb.user);
      await act(w, [first], 'StartTimer', 'w1', '1500', '300');
      await hook.waitFor((r) => r.some((x) => x.event.type === 'work.started'), 'work.started');
      await first.stop();

      clock.set(T0 + 1550 * S); // work ended at +1500 while no daemon ran; then an action
      await w.execute('AddInterruption', ['w1', 'doorbell', '']);
      clock.set(T0 + 1600 * S);
      const second = await startDaemon(sb, clock);
      expect(second.status().users[0]?.timer).toMatchObject({ state: 'rest', since: formatInstant(T0 + 1500 * S) });
      expect(second.nextWakeAt()).toBe(T0 + 1800 * S);
      clock.set(T0 + 1800 * S);
      second.tick();
      await hook.waitFor((r) => r.some((x) => x.event.type === 'rest.finished'), 'rest.finished');
      await second.stop();
      expect(types(hook)).toEqual(expected);
      const finished = hook.received.find((x) => x.event.type === 'work.finished')?.event;
      if (late === 'send') expect(finished).toMatchObject({ late: true, at: formatInstant(T0 + 1500 * S) });
      expect(hook.received.find((x) => x.event.type === 'interruption.added')?.event).toMatchObject({
        late: true,
        reason: 'doorbell',
      });
      expect(hook.received.find((x) => x.event.type === 'rest.finished')?.event.late).toBeUndefined();
      expect(new Set(hook.ids()).size).toBe(hook.received.length);
    },
  );

  it('applies a transition found long overdue while running (the machine slept) like a late one', async () => {
    const { hook, clock, d, w } = await webhookDaemon();
    await act(w, [d], 'StartTimer', 'w1', '60', '300');
    clock.set(T0 + 120 * S); // woke up a minute after the planned end of the work
    d.tick();
    expect(d.status().users[0]?.timer).toMatchObject({ state: 'rest', since: formatInstant(T0 + 60 * S) });
    clock.set(T0 + 360 * S);
    d.tick();
    await hook.waitFor((r) => r.some((x) => x.event.type === 'rest.finished'), 'rest.finished');
    expect(types(hook)).toEqual(['work.started', 'rest.finished']);
    expect(d.metrics()).toContain('fk_daemon_events_late_dropped_total 1');
  });

  it('keeps events for a target that is down and delivers each once when it returns, across a restart', async () => {
    const hook = await startWebhookReceiver(SECRET);
    cleanups.push(() => hook.close());
    hook.down();
    const sb = sandbox({
      shutdownTimeoutMs: 200,
      targets: [
        {
          type: 'webhook',
          url: hook.url,
          secret: SECRET,
          events: ['work.*', 'rest.*', 'pomodoro.*'],
          retry: { minMs: 5, maxMs: 40 },
        },
      ],
    });
    const clock = manualClock(T0);
    const first = await startDaemon(sb, clock);
    const w = await fileWriter(sb, clock);
    await plan(w, sb.user);
    await act(w, [first], 'StartTimer', 'w1', '60', '30');
    clock.set(T0 + 60 * S);
    first.tick();
    await hook.waitFor(() => hook.refused >= 3, 'a few refused attempts');
    expect(first.status().outbox.pending).toBe(2);
    await first.stop();
    const refusedBefore = hook.refused;

    const second = await startDaemon(sb, clock, { shutdownTimeoutMs: 200 });
    expect(second.status().outbox.pending).toBe(2);
    clock.set(T0 + 70 * S);
    await act(w, [second], 'StopTimer', '', '');
    await hook.waitFor(() => hook.refused >= refusedBefore + 2, 'refused again after the restart');
    hook.up();
    await hook.waitFor((r) => r.length >= 3, 'three events');
    await waitUntil(() => settled(second), 'outbox drained');
    expect(types(hook)).toEqual(['work.started', 'work.finished', 'pomodoro.voided']);
    expect(new Set(hook.ids()).size).toBe(3);
    expect(hook.received.every((x) => x.signatureValid)).toBe(true);
    const metrics = second.metrics();
    expect(metrics).toContain('fk_daemon_events_delivered_total{target="webhook"} 3');
    expect(metrics).toMatch(/fk_daemon_events_failed_total\{target="webhook"\} [1-9]/);
  });

  it('two daemons on one history: the webhook sees each id once', async () => {
    const hook = await startWebhookReceiver(null);
    cleanups.push(() => hook.close());
    const sb = sandbox({ targets: [{ type: 'webhook', url: hook.url }] });
    const clock = manualClock(T0);
    const a = await startDaemon(sb, clock, { name: 'a' });
    const b = await startDaemon(sb, clock, { name: 'b' });
    const w = await fileWriter(sb, clock);
    await plan(w, sb.user, 2);
    await act(w, [a, b], 'StartTimer', 'w1', '60', '30');
    for (const t of [60, 90]) {
      clock.set(T0 + t * S);
      b.tick();
      a.tick();
    }
    clock.set(T0 + 100 * S);
    await act(w, [a, b], 'StartTimer', 'w1', '60', '0');
    clock.set(T0 + 160 * S);
    a.tick();
    b.tick();
    clock.set(T0 + 200 * S);
    await act(w, [a, b], 'StopTimer', '', '');
    await waitUntil(() => settled(a) && settled(b), 'both outboxes drained');
    // Each daemon delivers what it claimed, so the order across them is not fixed; the set is.
    expect(types(hook).sort()).toEqual([
      'longbreak.started',
      'rest.finished',
      'rest.finished',
      'work.finished',
      'work.started',
      'work.started',
    ]);
    expect(new Set(hook.ids()).size).toBe(hook.received.length);
    const online = hook.received.filter((x) => x.event.type === 'daemon.online').map((x) => x.event.daemon);
    expect(new Set(online)).toEqual(new Set([a.id, b.id]));
  });

  it('runs a hook with the event JSON on stdin (argv, no shell) and retries a failing one', async () => {
    const sb = sandbox({});
    const out = join(sb.dir, 'hook.jsonl');
    const script =
      "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{require('fs').appendFileSync(process.argv[1], s+'\\n');process.exit(process.env.FK_EVENT_TYPE==='work.started'?0:0)})";
    const failing = join(sb.dir, 'attempts.txt');
    const failScript = "require('fs').appendFileSync(process.argv[1], 'x');process.exit(3)";
    const clock = manualClock(T0);
    const d = await startDaemon(sb, clock, {
      targets: [
        { type: 'hook', name: 'log', argv: [process.execPath, '-e', script, out], events: ['work.started'] },
        {
          type: 'hook',
          name: 'broken',
          argv: [process.execPath, '-e', failScript, failing],
          events: ['work.started'],
          retry: { minMs: 5, maxMs: 10, maxAttempts: 2 },
        },
      ],
    });
    const w = await fileWriter(sb, clock);
    await plan(w, sb.user);
    await act(w, [d], 'StartTimer', 'w1', '60', '30');
    await waitUntil(() => settled(d), 'hooks done');
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as FkEvent);
    expect(lines.map((e) => e.type)).toEqual(['work.started']);
    expect(readFileSync(failing, 'utf8')).toBe('xx');
    expect(d.metrics()).toContain('fk_daemon_events_dropped_total{target="broken"} 1');
  });
});

describeWith(amqpEndpoint(), 'fk daemon on RabbitMQ (manual clock)', ({ url }) => {
  it('follows an AMQP history and publishes events to a topic exchange with publisher confirms', async () => {
    const exchange = `fk.test.${randomUUID()}`;
    const conn = await amqp.connect(url);
    cleanups.push(() => conn.close());
    const ch = await conn.createChannel();
    await ch.assertExchange(exchange, 'topic', { durable: true });
    cleanups.push(async () => {
      await ch.deleteExchange(exchange);
    });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, 'fk.*.work.*');
    await ch.bindQueue(queue, exchange, 'fk.*.rest.finished');
    const got: Array<{ key: string; id: string | undefined; event: FkEvent }> = [];
    await ch.consume(
      queue,
      (m) => {
        if (m)
          got.push({
            key: m.fields.routingKey,
            id: m.properties.messageId as string | undefined,
            event: JSON.parse(m.content.toString()) as FkEvent,
          });
      },
      { noAck: true },
    );

    const sb = sandbox({ targets: [{ type: 'amqp', url, exchange }] }, url);
    const clock = manualClock(T0);
    const d = await startDaemon(sb, clock);
    const writer = await sessionWriter(sb, clock);
    await plan(writer.client, sb.user);
    const rec = await writer.client.execute('StartTimer', ['w1', '60', '30']);
    await waitUntil(() => seq(d) >= rec.seq, 'daemon caught the StartTimer');
    clock.set(T0 + 60 * S);
    d.tick();
    clock.set(T0 + 90 * S);
    d.tick();
    await waitUntil(() => got.length >= 3, 'three messages');
    const userWord = sb.user.replace(/\./g, '_');
    expect(got.map((g) => g.key)).toEqual([
      `fk.${userWord}.work.started`,
      `fk.${userWord}.work.finished`,
      `fk.${userWord}.rest.finished`,
    ]);
    expect(got.map((g) => g.id)).toEqual(got.map((g) => g.event.id));
    expect(got[1]?.event.at).toBe(formatInstant(T0 + 60 * S));
    expect(d.ready()).toBe(true);
  });
});

describeWith(xmppEndpoint(), 'fk daemon XMPP target', (ep) => {
  it('sends each event as a chat message to the configured JID', async () => {
    const [sender, recipient] = [
      await registerXmppAccount(ep.service, ep.domain),
      await registerXmppAccount(ep.service, ep.domain),
    ];
    const rx = xmppClient({
      service: ep.service,
      domain: ep.domain,
      username: recipient.username,
      password: recipient.password,
      resource: 'phone',
    });
    const bodies: string[] = [];
    rx.on('stanza', (st: Element) => {
      const body = st.name === 'message' ? st.getChildText('body') : null;
      if (body !== null) bodies.push(body);
    });
    rx.on('error', () => undefined);
    await rx.start();
    cleanups.push(async () => {
      rx.reconnect.stop();
      await rx.stop().catch(() => undefined);
    });
    await rx.send(xml('presence'));

    const sb = sandbox({
      targets: [
        {
          type: 'xmpp',
          service: ep.service,
          domain: ep.domain,
          username: sender.username,
          password: sender.password,
          to: `${recipient.username}@${ep.domain}`,
          events: ['work.*'],
        },
      ],
    });
    const clock = manualClock(T0);
    const d = await startDaemon(sb, clock);
    const w = await fileWriter(sb, clock);
    await plan(w, sb.user);
    await act(w, [d], 'StartTimer', 'w1', '60', '30');
    clock.set(T0 + 60 * S);
    d.tick();
    await waitUntil(() => bodies.length >= 2, 'two chat messages');
    expect(bodies).toEqual([
      "Work started: Pomodoro 1 of 'Write the report', 1:00",
      "Work finished: Pomodoro 1 of 'Write the report', rest 0:30",
    ]);
    await waitUntil(() => settled(d), 'outbox drained');
  });
});
