import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';

/**
 * A TLS terminator in front of a plain broker port (integration tier): the real TLS handshake of
 * `amqps://` against a RabbitMQ that only listens in the clear. Certificates come from `openssl`
 * (a CA, a server certificate for localhost/127.0.0.1, a client certificate), written to files
 * the way an operator would hand them to fk.
 */
export interface TlsFiles {
  readonly dir: string;
  readonly caFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly ca: Buffer;
  cleanup(): void;
}

export function makeTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'fk-tls-'));
  const f = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe', timeout: 60_000 });
  };
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=fk test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  );
  writeFileSync(f('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const [who, cn, ext] of [
    ['server', 'localhost', ['-extfile', f('server.ext')]],
    ['client', 'fk client', []],
  ] as const) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      f(`${who}.key`),
      '-out',
      f(`${who}.csr`),
    );
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${who}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      f(`${who}.pem`),
      ...ext,
    );
  }
  return {
    dir,
    caFile: f('ca.pem'),
    clientCertFile: f('client.pem'),
    clientKeyFile: f('client.key'),
    serverCert: readFileSync(f('server.pem')),
    serverKey: readFileSync(f('server.key')),
    ca: readFileSync(f('ca.pem')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsProxy {
  readonly port: number;
  close(): Promise<void>;
}

/** Terminates TLS on 127.0.0.1:<port> and forwards to `target`; `requireClientCert` asks for one signed by the CA. */
export async function startTlsProxy(
  files: TlsFiles,
  target: { host: string; port: number },
  requireClientCert: boolean,
): Promise<TlsProxy> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    {
      key: files.serverKey,
      cert: files.serverCert,
      ca: files.ca,
      requestCert: requireClientCert,
      rejectUnauthorized: requireClientCert,
    },
    (client) => {
      const upstream = net.connect(target.port, target.host);
      sockets.add(client);
      sockets.add(upstream);
      const kill = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('error', kill);
      upstream.on('error', kill);
      client.on('close', kill);
      upstream.on('close', kill);
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
