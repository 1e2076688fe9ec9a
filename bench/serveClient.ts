import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { FK, fkNodeFlags } from './proc';

/** A bare protocol client for the `fk serve` bench: counts lines, no model. */
export interface BenchConnection {
  readonly ws: WebSocket;
  /** Lines received before ReplayCompleted (the replay). */
  readonly replayed: number;
  /** Milliseconds from opening the socket to ReplayCompleted (sign-in + replay). */
  readonly ms: number;
  /** Called with each later (live) line. */
  onLine: ((line: string) => void) | null;
  /** Asks for `Replay(from)` again on this signed-in connection: lines and ms until ReplayCompleted. */
  replay(from: number): Promise<{ lines: number; ms: number }>;
  close(): Promise<void>;
}

const now = (): string => new Date().toISOString().replace('T', ' ').replace('Z', '+00:00');
const q = (p: string): string => `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
export const benchLine = (seq: number, user: string, name: string, params: string[]): string =>
  `${seq}, ${now()}, ${user}: ` +
    `${name}(${(params.length >= 2 ? params : [...params, '', ''].slice(0, 2)).map(q).join(', ')})`;

/** Signs in (Authenticate + Replay(since)) and resolves at ReplayCompleted. */
export function signIn(
  url: string,
  email: string,
  password: string,
  since = 0,
  timeoutMs = 300_000,
): Promise<BenchConnection> {
  const start = performance.now();
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
  /** The replay being received, if any: its line count and what to call at ReplayCompleted. */
  let current: { lines: number; done: (lines: number) => void; fail: (err: Error) => void } | null = null;
  const conn: BenchConnection = {
    ws,
    replayed: 0,
    ms: 0,
    onLine: null,
    replay(from) {
      const t0 = performance.now();
      return new Promise((resolve, reject) => {
        current = { lines: 0, done: (lines) => resolve({ lines, ms: performance.now() - t0 }), fail: reject };
        ws.send(benchLine(3, 'admin@local.host', 'Replay', [String(from)]));
      });
    },
    close: () =>
      new Promise<void>((r) => {
        if (ws.readyState === WebSocket.CLOSED) return r();
        ws.once('close', () => r());
        ws.close();
      }),
  };
  ws.on('message', (data) => {
    const text = data.toString();
    const c = current;
    if (c === null) {
      for (const l of text.split('\n')) conn.onLine?.(l);
      return;
    }
    if (c.lines === 0 && /^\d+, [^,]*, admin@local\.host: Error\(/.test(text))
      return c.fail(new Error(`server error: ${text.slice(0, 300)}`));
    const lines = text.split('\n');
    if (/: ReplayCompleted\(/.test(lines[lines.length - 1] as string)) {
      current = null;
      c.done(c.lines + lines.length - 1);
    } else c.lines += lines.length;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`no ReplayCompleted for ${email} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const fail = (err: Error): void => {
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    current = {
      lines: 0,
      done: (lines) => {
        clearTimeout(timer);
        Object.assign(conn, { replayed: lines, ms: performance.now() - start });
        resolve(conn);
      },
      fail,
    };
    ws.on('open', () => {
      ws.send(benchLine(1, 'admin@local.host', 'Authenticate', [email, `basic|${password}`, 'true']));
      ws.send(benchLine(2, 'admin@local.host', 'Replay', [String(since)]));
    });
    ws.on('error', (err) => current?.fail(err));
  });
}

/** A spawned `fk serve` (the built CLI). */
export interface BenchServer {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resident memory of the server process, MiB (Linux /proc). */
  rssMb(): number;
  stop(): Promise<void>;
}

export function startBenchServer(
  backend: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<BenchServer> {
  const child = spawn(
    process.execPath,
    [...fkNodeFlags(), FK, 'serve', '--backend', backend, '--listen', '127.0.0.1:0', '--log-level', 'warn', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  let started = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fk serve did not start: ${log.slice(-500)}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`fk serve exited ${String(code)}: ${log.slice(-500)}`));
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      const m = started ? null : /fk serve: listening on (ws:\/\/[^ ]+\/ws)/.exec(log);
      if (!m) return;
      started = true;
      clearTimeout(timer);
      resolve({
        url: m[1] as string,
        child,
        rssMb: () => {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
        },
        stop: () =>
          new Promise<void>((r) => {
            if (child.exitCode !== null || child.signalCode !== null) return r();
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
