import { createServer, connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback TCP proxy for fault injection (STYLE §9: a fake TCP server, used sparingly):
 * `dropAll()` cuts every connection as a network failure would, `refuse` makes new connections
 * fail, and `holdDownstream` swallows server→client bytes (use it right before `dropAll()`, to lose
 * what the server sent last).
 */
export interface TcpProxy {
  readonly port: number;
  refuse: boolean;
  holdDownstream: boolean;
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  const proxy: TcpProxy = {
    port: 0,
    refuse: false,
    holdDownstream: false,
    dropAll() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.dropAll();
        server.close(() => resolve());
      }),
  };
  const server = createServer((client) => {
    if (proxy.refuse) {
      client.destroy();
      return;
    }
    const upstream = connect(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (!proxy.holdDownstream) client.write(d);
    });
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { port: number }).port = (server.address() as AddressInfo).port;
  return proxy;
}
