import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { silentLogger } from '../../src/core/logger';
import { DEFAULT_LIMITS } from '../../src/serve/limits';
import { startServer, type RunningServer } from '../../src/serve/server';
import { openRaw, rawLine, signInRaw } from '../support/rawProtocol';
import { memoryBackend } from '../support/serveMemory';

/**
 * The listener of `fk serve` in process (accounts in memory): what is checked before a connection
 * exists (path, Origin, capacity), frame limits, the status routes, and TLS.
 */
const A = 'alice@example.org';
const PW = 'alice-password';
const servers: RunningServer[] = [];

async function start(over: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer> {
  const s = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      allowedOrigins: [],
      trustProxy: false,
      limits: { ...DEFAULT_LIMITS, maxLineBytes: 1024 },
      ...over,
    },
    { backend: memoryBackend({ [A]: PW }), logger: silentLogger },
  );
  servers.push(s);
  return s;
}

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const refusal = (url: string, headers: Record<string, string> = {}): Promise<number> =>
  openRaw(url, headers).then(
    () => 0,
    (err: { status?: number }) => err.status ?? -1,
  );

describe('fk serve listener', () => {
  it('upgrades /ws only, refuses a browser Origin that is not allowed, and more connections than the limit', async () => {
    const s = await start({
      allowedOrigins: ['https://app.example.org'],
      limits: { ...DEFAULT_LIMITS, maxConnections: 1 },
    });
    expect(await refusal(s.url.replace('/ws', '/other'))).toBe(404);
    expect(await refusal(s.url, { Origin: 'https://evil.example.org' })).toBe(403);
    const first = await openRaw(s.url, { Origin: 'https://app.example.org' });
    expect(await refusal(s.url)).toBe(503);
    first.close();
    await first.closed;
    const stats = (await (await fetch(s.url.replace('ws://', 'http://').replace('/ws', '/status'))).json()) as {
      stats: { connectionsRefused: Record<string, number> };
    };
    expect(stats.stats.connectionsRefused).toEqual({ path: 1, origin: 1, capacity: 1 });
  });

  it('closes on a binary frame (1003) and on a frame over the line limit (1009)', async () => {
    const s = await start();
    const bin = await signInRaw(s.url, A, PW);
    const raw = new WebSocket(s.url);
    await new Promise((r) => raw.once('open', r));
    raw.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await new Promise<number>((r) => raw.once('close', (code) => r(code)))).toBe(1003);
    bin.send('x'.repeat(2000));
    expect(await bin.closed).toBe(1009);
  });

  it('serves /healthz and /metrics (counts only, no e-mail), and stops with 1001 for the clients', async () => {
    const s = await start();
    const c = await signInRaw(s.url, A, PW);
    c.send(rawLine(2, A, 'CreateBacklog', ['b1', 'Secret']));
    c.send(rawLine(1, 'admin@local.host', 'Ping', ['x']));
    await c.waitFor((l) => /Pong\("x"/.test(l), 'Pong');
    const http = s.url.replace('ws://', 'http://').replace('/ws', '');
    expect((await fetch(`${http}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${http}/metrics`)).text();
    expect(metrics).toMatch(/^fk_serve_connections_authenticated 1$/m);
    expect(metrics).toMatch(/^fk_serve_lines_stored_total 1$/m);
    expect(metrics).toMatch(/^fk_serve_sign_ins_total\{result="ok"\} 1$/m);
    expect(metrics).not.toContain('alice');
    await s.close();
    expect(await c.closed).toBe(1001);
  });

  it('serves wss:// with --tls-cert/--tls-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fk-serve-tls-'));
    try {
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        {
          stdio: 'ignore',
        },
      );
      const s = await start({ tls: { cert: readFileSync(cert), key: readFileSync(key) } });
      expect(s.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
      const ws = new WebSocket(s.url, { ca: readFileSync(cert) });
      const lines: string[] = [];
      await new Promise<void>((resolve, reject) => {
        ws.on('open', () => {
          ws.send(rawLine(1, 'admin@local.host', 'Authenticate', [A, `basic|${PW}`, 'true']));
          ws.send(rawLine(2, 'admin@local.host', 'Replay', ['0']));
        });
        ws.on('message', (d) => {
          lines.push(...d.toString().split('\n'));
          if (lines.some((l) => /ReplayCompleted/.test(l))) resolve();
        });
        ws.on('error', reject);
      });
      expect(lines[0]).toContain(`CreateUser("${A}"`);
      ws.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
