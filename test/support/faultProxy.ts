import * as net from 'node:net';

/**
 * A loopback TCP proxy for transport fault injection (STYLE §9: used sparingly, integration tier
 * only). It can hold the bytes of one direction (so, e.g., a broker's publish confirms never reach
 * the client) and drop every connection at an exact moment, which `rabbitmqctl` cannot do.
 */
export interface FaultProxy {
  readonly port: number;
  /** Stops forwarding `'down'` (server → client) or `'up'` (client → server) bytes; they are buffered. */
  hold(direction: 'up' | 'down'): void;
  /** Drops every proxied connection; held bytes are discarded. New connections are forwarded normally. */
  dropAll(): void;
  /** Number of client connections accepted so far. */
  readonly accepted: number;
  /** While true, new connections are closed at once (the server looks down). */
  refuse: boolean;
  close(): Promise<void>;
}

export async function startFaultProxy(targetHost: string, targetPort: number): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const held = { up: false, down: false };
  let accepted = 0;
  const server = net.createServer((client) => {
    if (proxy.refuse) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (d) => {
      if (!held.up) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!held.down) client.write(d);
    });
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', kill);
    upstream.on('close', kill);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: FaultProxy = {
    port,
    refuse: false,
    get accepted() {
      return accepted;
    },
    hold(direction) {
      held[direction] = true;
    },
    dropAll() {
      held.up = false;
      held.down = false;
      // destroy(), not resetAndDestroy(): a reset handle sometimes never finished closing, and the
      // test process then spun at exit inside Node's handle clean-up (seen once in a full run, with
      // the socket's fd still open and gone from the TCP table). Both ends see the connection drop.
      for (const s of [...sockets]) s.destroy();
      sockets.clear();
    },
    async close() {
      for (const s of [...sockets]) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
