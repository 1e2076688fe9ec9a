import { randomUUID } from 'node:crypto';
import type { Transport, TransportStatus } from '../../src/core/transport';
import { createAmqpTransport, type AmqpTransportOptions } from '../../src/transports/amqp';
import { collector } from '../contract/transport.contract';
import { amqpFrameWatcher } from '../support/amqpFrames';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy';
import { eventually, settles } from '../support/hang';

jest.setTimeout(90_000);
const HOOK_TIMEOUT = 60_000;
describeWith(amqpEndpoint(), 'amqp transport: close when the link drops while closing (issue 11.3)', ({ url }) => {
  const histories: string[] = [];
  const opened: Transport[] = [];
  let proxy: FaultProxy;
  const base = new URL(url);

  beforeEach(async () => {
    proxy = await startFaultProxy(base.hostname, Number(base.port || 5672), { watch: amqpFrameWatcher });
  }, HOOK_TIMEOUT);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
    await proxy.close();
  }, HOOK_TIMEOUT);
  afterAll(() => deleteHistories(url, histories), HOOK_TIMEOUT);

  const viaProxy = (extra: Partial<AmqpTransportOptions> = {}): Transport => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(proxy.port);
    const history = `t-${randomUUID()}`;
    histories.push(history);
    const t = createAmqpTransport({ url: u.toString(), history, caughtUpGraceMs: 100, ...extra });
    opened.push(t);
    return t;
  };

  /** A transport through the proxy with one entry stored, subscribed and caught up. */
  const subscribed = async () => {
    const t = viaProxy();
    const statuses: TransportStatus['kind'][] = [];
    t.onStatus((s) => statuses.push(s.kind));
    await t.connect();
    await t.publish('a', { id: randomUUID(), seq: 1 });
    const c = collector();
    const unsubscribe = await t.subscribe(null, c);
    await c.waitCaughtUp();
    return { t, statuses, unsubscribe };
  };

  it.each(['blackhole', 'drop'] as const)('close() ends when the link is cut at connection.close (%s)', async (how) => {
    const { t, statuses } = await subscribed();
    const cut = proxy.cutOn('up', 'connection.close', how);
    const closing = t.close();
    await cut;
    expect(await settles(closing)).toBe('settled');
    expect(statuses[statuses.length - 1]).toBe('closed');
    // Nothing of the connection is left open: the socket to the dead peer was given up.
    await eventually(() => proxy.blackholedOpen === 0, 'the client to close its socket');
  });

  it.each(['blackhole', 'drop'] as const)(
    'unsubscribe then close (what a client does) end when the link is cut at channel.close (%s)',
    async (how) => {
      const { t, statuses, unsubscribe } = await subscribed();
      const cut = proxy.cutOn('up', 'channel.close', how);
      const stopping = unsubscribe();
      await cut;
      expect(await settles(stopping)).toBe('settled');
      expect(await settles(t.close())).toBe('settled');
      expect(statuses[statuses.length - 1]).toBe('closed');
      await eventually(() => proxy.blackholedOpen === 0, 'the client to close its socket');
    },
  );

  it.each(['blackhole', 'drop'] as const)(
    'subscribe settles when the link is cut as the tail probe closes its channel (%s)',
    async (how) => {
      const t = viaProxy();
      await t.connect();
      const cut = proxy.cutOn('up', 'channel.close', how);
      const subscribing = t.subscribe(null, collector());
      await cut;
      expect(await settles(subscribing)).toBe('settled');
      expect(await settles(t.close())).toBe('settled');
      await eventually(() => proxy.blackholedOpen === 0, 'the client to close its socket');
    },
  );
});

describeWith(
  amqpEndpoint(),
  'amqp transport: connect() while reconnecting waits for the attempt (issue 11.5)',
  ({ url }) => {
    const histories: string[] = [];
    const opened: Transport[] = [];
    let proxy: FaultProxy;
    const base = new URL(url);
    beforeEach(async () => {
      proxy = await startFaultProxy(base.hostname, Number(base.port || 5672));
    }, HOOK_TIMEOUT);
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((t) => t.close()));
      await proxy.close();
    }, HOOK_TIMEOUT);
    afterAll(() => deleteHistories(url, histories), HOOK_TIMEOUT);

    /** Connected through the proxy; `onOffline` runs in the status listener, i.e. while reconnecting. */
    const connected = async (onOffline: (t: Transport) => void): Promise<Transport> => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(proxy.port);
      const history = `t-${randomUUID()}`;
      histories.push(history);
      const t = createAmqpTransport({
        url: u.toString(),
        history,
        retryLow: 200,
        retryHigh: 200,
        caughtUpGraceMs: 100,
      });
      opened.push(t);
      await t.connect();
      let once = false;
      t.onStatus((s) => {
        if (s.kind === 'offline' && !once) {
          once = true;
          onOffline(t);
        }
      });
      return t;
    };

    it('resolves once the reconnect succeeds (it rejected "connect while reconnecting" before)', async () => {
      let connecting: Promise<void> | null = null;
      const t = await connected((tr) => (connecting = tr.connect()));
      proxy.dropAll();
      await eventually(() => connecting !== null, 'the transport to go offline');
      await expect(connecting).resolves.toBeUndefined();
      await t.publish('after', { id: randomUUID(), seq: 1 });
    });

    it('rejects with the failed attempt when the broker stays away, instead of waiting forever', async () => {
      let connecting: Promise<void> | null = null;
      await connected((tr) => (connecting = tr.connect()));
      proxy.refuse = true;
      proxy.dropAll();
      await eventually(() => connecting !== null, 'the transport to go offline');
      await expect(connecting).rejects.toMatchObject({ code: 'FK_TRANSPORT_UNAVAILABLE', retryable: true });
    });
  },
);
