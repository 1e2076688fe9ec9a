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
  /**
   * Arms a cut: the first chunk in `direction` in which the watcher (see `FaultProxyOptions`)
   * finds `event` is not forwarded, and that connection is then dropped (`'drop'`: both ends see
   * it close) or black-holed (`'blackhole'`: it stays open, nothing more passes either way, and
   * the proxy does not answer a FIN: a dead peer or network). Resolves once the cut happened.
   */
  cutOn(direction: 'up' | 'down', event: string, how: 'drop' | 'blackhole'): Promise<void>;
  /** Removes the cuts armed by `cutOn` that have not happened. */
  disarm(): void;
  /** Every event the watchers reported so far, in order, across connections. */
  readonly events: readonly string[];
  /**
   * Black-holed connections whose client still holds its socket. A client that only half-closes
   * (sends FIN and waits for ours, which never comes) keeps a handle open and its process alive,
   * so after its FIN the proxy writes one space now and then: a socket the client destroyed answers
   * with a reset, and only then the connection stops counting.
   */
  readonly blackholedOpen: number;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /**
   * Makes a protocol watcher for one direction of one connection (it sees that direction's bytes
   * from the start, in order); it returns the names of the events found in each chunk.
   */
  readonly watch?: (direction: 'up' | 'down') => (chunk: Buffer) => readonly string[];
}

export async function startFaultProxy(
  targetHost: string,
  targetPort: number,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const held = { up: false, down: false };
  const holes = new Set<net.Socket>();
  let cuts: Array<{ direction: 'up' | 'down'; event: string; how: 'drop' | 'blackhole'; done: () => void }> = [];
  let accepted = 0;
  const events: string[] = [];
  // allowHalfOpen: a black-holed connection must not answer the client's FIN by itself.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    if (proxy.refuse) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect({ port: targetPort, host: targetHost, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    let hole = false;
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      holes.delete(client);
    };
    let probe: NodeJS.Timeout | null = null;
    const probeClosed = (): void => {
      probe ??= setInterval(() => {
        if (!client.destroyed) client.write(' ');
      }, 100);
    };
    client.on('close', () => {
      if (probe !== null) clearInterval(probe);
    });
    const watchers = { up: options.watch?.('up'), down: options.watch?.('down') };
    /** True when the chunk triggered a cut (and must not be forwarded). */
    const cutBy = (direction: 'up' | 'down', d: Buffer): boolean => {
      const found = watchers[direction]?.(d) ?? [];
      events.push(...found);
      const cut = cuts.find((c) => c.direction === direction && found.includes(c.event));
      if (cut === undefined) return false;
      cuts = cuts.filter((c) => c !== cut);
      if (cut.how === 'drop') kill();
      else {
        hole = true;
        holes.add(client);
        upstream.destroy(); // the broker sees the client vanish; the client sees nothing at all
        sockets.delete(upstream);
      }
      cut.done();
      return true;
    };
    client.on('data', (d: Buffer) => {
      if (hole || cutBy('up', d)) return;
      if (!held.up) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (hole || cutBy('down', d)) return;
      if (!held.down) client.write(d);
    });
    client.on('end', () => {
      if (!hole) kill();
      else probeClosed();
    });
    upstream.on('end', () => {
      if (!hole) kill();
    });
    client.on('error', kill);
    upstream.on('error', () => {
      if (!hole) kill();
    });
    client.on('close', kill);
    upstream.on('close', () => {
      if (!hole) kill();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: FaultProxy = {
    port,
    refuse: false,
    get accepted() {
      return accepted;
    },
    events,
    disarm() {
      cuts = [];
    },
    get blackholedOpen() {
      return holes.size;
    },
    cutOn(direction, event, how) {
      return new Promise<void>((done) => cuts.push({ direction, event, how, done }));
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
      holes.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
