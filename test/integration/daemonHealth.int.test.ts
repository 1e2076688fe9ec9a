import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyName } from '../../src/app/historyName';
import { createAmqpTransport } from '../../src/transports/amqp';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { manualClock } from '../../src/core/clock';
import type { Daemon } from '../../src/daemon/runtime';
import {
  captureLogger,
  cleanups,
  fileWriter,
  plan,
  S,
  sandbox,
  seq,
  sessionWriter,
  startDaemon,
  T0,
  types,
  type LogLine,
} from '../support/daemonSandbox';
import { startWebhookReceiver, waitUntil, type WebhookReceiver } from '../support/webhookReceiver';

jest.setTimeout(60_000);

/**
 * Issue 11.6: the daemon's health must not lie. A file history rewritten or shrunk under it (a
 * desktop repair, a sync tool) is read anew by itself; a garbage line makes the user a conflict,
 * visible in /readyz, in the logs at warn/error and as an event.
 */
async function fileDaemon(): Promise<{
  hook: WebhookReceiver;
  d: Daemon;
  logs: LogLine[];
  sb: ReturnType<typeof sandbox>;
  clock: ReturnType<typeof manualClock>;
}> {
  const hook = await startWebhookReceiver(null);
  cleanups.push(() => hook.close());
  const sb = sandbox({ targets: [{ type: 'webhook', url: hook.url, retry: { minMs: 10, maxMs: 100 } }] });
  const clock = manualClock(T0);
  const logger = captureLogger();
  const d = await startDaemon(sb, clock, {}, { logger });
  const w = await fileWriter(sb, clock);
  await plan(w, sb.user);
  await waitUntil(() => seq(d) >= 4, 'the daemon read the plan');
  return { hook, d, logs: logger.lines, sb, clock };
}

const readyz = async (
  d: Daemon,
): Promise<{ status: number; body: { ready: boolean; sessions: Array<{ state: string; reason: string | null }> } }> => {
  const r = await fetch(`http://127.0.0.1:${(d.http as { port: number }).port}/readyz`);
  return { status: r.status, body: (await r.json()) as never };
};

const daemonEvents = (hook: WebhookReceiver): string[] =>
  hook.received.map((x) => x.event.type).filter((t) => t.startsWith('daemon.'));

describe('fk daemon health on a file history', () => {
  it('re-opens a history shrunk under it (a repair) by itself and keeps following it', async () => {
    const { hook, d, logs, sb, clock } = await fileDaemon();
    const lines = readFileSync(sb.data, 'utf8');
    const w = await fileWriter(sb, clock);
    await w.execute('CreateBacklog', ['b2', 'Tomorrow']);
    await waitUntil(() => seq(d) >= 5, 'the daemon at seq 5');

    // A repair tool writes the history anew, shorter, and renames it in place.
    clock.set(T0 + S);
    writeFileSync(`${sb.data}.new`, lines);
    renameSync(`${sb.data}.new`, sb.data);
    await hook.waitFor((r) => r.some((x) => x.event.type === 'daemon.offline'), 'daemon.offline');
    expect(hook.received.find((x) => x.event.type === 'daemon.offline')?.event.detail?.reason).toMatch(
      /shrank|rewritten|removed/,
    );
    expect(logs.some((l) => l.level === 'warn' && l.msg.includes('not followed'))).toBe(true);
    await hook.waitFor((r) => r.filter((x) => x.event.type === 'daemon.online').length === 2, 'daemon.online again');
    expect(d.status().users[0]).toMatchObject({ state: 'online', lastSeq: 4, historyError: null });
    expect((await readyz(d)).status).toBe(200);

    const again = await fileWriter(sb, clock);
    await again.execute('StartTimer', ['w1', '60', '30']);
    await hook.waitFor((r) => r.some((x) => x.event.type === 'work.started'), 'work.started after the rewrite');
    expect(types(hook)).toEqual(['work.started']);
    expect(daemonEvents(hook)).toEqual(['daemon.online', 'daemon.offline', 'daemon.online']);
  });

  it('a garbage line appended: conflict in /readyz, an error log and daemon.conflict; the repaired file is followed again', async () => {
    const { hook, d, logs, sb, clock } = await fileDaemon();
    const good = readFileSync(sb.data, 'utf8');
    clock.set(T0 + S);
    appendFileSync(sb.data, 'this is not a record\n');
    await hook.waitFor((r) => r.some((x) => x.event.type === 'daemon.conflict'), 'daemon.conflict');
    const ready = await readyz(d);
    expect(ready.status).toBe(503);
    expect(ready.body.sessions[0]).toMatchObject({ state: 'conflict', reason: expect.stringMatching(/line 5/) });
    expect(d.status().users[0]?.historyError).toMatchObject({ code: expect.any(String) });
    expect(logs.some((l) => l.level === 'error' && l.msg.includes('history conflict'))).toBe(true);
    expect(d.metrics()).toMatch(/fk_daemon_session_online\{[^}]+\} 0/);

    // Repaired: the garbage line removed (the file shrinks).
    clock.set(T0 + 2 * S);
    writeFileSync(sb.data, good);
    await waitUntil(() => d.ready(), 'ready again after the repair', 30_000);
    const w = await fileWriter(sb, clock);
    await w.execute('StartTimer', ['w1', '60', '30']);
    await hook.waitFor((r) => r.some((x) => x.event.type === 'work.started'), 'work.started after the repair');
    expect(daemonEvents(hook)).toEqual(['daemon.online', 'daemon.offline', 'daemon.conflict', 'daemon.online']);
  });
});

describeWith(amqpEndpoint(), 'fk daemon on an encrypted RabbitMQ history with junk in it', ({ url }) => {
  it('skips a record that fails authentication, shows it in /status, the metrics and a warn log, and keeps going (issue 11.4)', async () => {
    const hook = await startWebhookReceiver(null);
    cleanups.push(() => hook.close());
    const sb = sandbox({ targets: [{ type: 'webhook', url: hook.url, retry: { minMs: 10, maxMs: 100 } }] }, url);
    const passphraseFile = join(sb.dir, 'passphrase');
    writeFileSync(passphraseFile, 'correct horse battery staple\n', { mode: 0o600 });
    const over = { encryption: 'sodium', passphraseFile };
    const clock = manualClock(T0);
    const w = (await sessionWriter(sb, clock, over)).client;
    await plan(w, sb.user);
    const logger = captureLogger();
    const d = await startDaemon(sb, clock, {}, { over, logger });
    // Anyone with write permission publishes junk in the envelope's shape.
    const vandal = createAmqpTransport({ url, history: historyName(sb.user) });
    cleanups.push(() => vandal.close());
    await vandal.connect();
    await vandal.publish(`!1 5 ${sb.user} AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, {
      id: randomUUID(),
      seq: 5,
    });
    clock.set(T0 + S);
    await w.execute('StartTimer', ['w1', '60', '30']);
    await hook.waitFor((r) => r.some((x) => x.event.type === 'work.started'), 'work.started after the junk');
    const status = (await (await fetch(`http://127.0.0.1:${(d.http as { port: number }).port}/status`)).json()) as {
      users: Array<{
        state: string;
        lastSeq: number;
        ignored: { counts: Record<string, number>; recent: Array<Record<string, unknown>> };
      }>;
    };
    expect(status.users[0]).toMatchObject({ state: 'online', lastSeq: 5 });
    expect(status.users[0]?.ignored.counts.unauthentic).toBe(1);
    expect(status.users[0]?.ignored.recent).toEqual([
      expect.objectContaining({ reason: 'unauthentic', code: 'FK_DECRYPT_FAILED' }),
    ]);
    expect(d.metrics()).toMatch(
      /fk_daemon_records_ignored_total\{user="[^"]+",backend="[^"]+",reason="unauthentic"\} 1/,
    );
    expect(
      logs(logger.lines, 'warn').some((l) => l.msg === 'record ignored' && l.fields.reason === 'unauthentic'),
    ).toBe(true);
    expect(d.ready()).toBe(true);
  });
});

describeWith(amqpEndpoint(), 'fk daemon on a RabbitMQ history that breaks', ({ url }) => {
  it('a sequence gap is a conflict at once: error log, daemon.conflict, /readyz 503 (it used to stay 200)', async () => {
    const hook = await startWebhookReceiver(null);
    cleanups.push(() => hook.close());
    const sb = sandbox({ targets: [{ type: 'webhook', url: hook.url, retry: { minMs: 10, maxMs: 100 } }] }, url);
    const clock = manualClock(T0);
    const w = (await sessionWriter(sb, clock)).client;
    await plan(w, sb.user);
    const logger = captureLogger();
    const d = await startDaemon(sb, clock, {}, { logger });
    const raw = createAmqpTransport({ url, history: historyName(sb.user) });
    cleanups.push(() => raw.close());
    await raw.connect();
    clock.set(T0 + S);
    const gap = `9, 2026-06-10 10:00:01+00:00, ${sb.user}: CreateBacklog("b9", "After a gap")`;
    await raw.publish(gap, { id: randomUUID(), seq: 9 });
    await hook.waitFor((r) => r.some((x) => x.event.type === 'daemon.conflict'), 'daemon.conflict');
    expect(hook.received.find((x) => x.event.type === 'daemon.conflict')?.event.detail).toMatchObject({
      code: 'FK_SEQUENCE_CONFLICT',
      seq: 4,
    });
    const ready = await readyz(d);
    expect(ready.status).toBe(503);
    expect(ready.body.sessions[0]).toMatchObject({ state: 'conflict' });
    expect(logs(logger.lines, 'error').some((l) => l.msg.includes('history conflict'))).toBe(true);
  });
});

const logs = (lines: LogLine[], level: LogLine['level']): LogLine[] => lines.filter((l) => l.level === level);
