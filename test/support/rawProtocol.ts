import WebSocket from 'ws';

/**
 * A bare protocol client over `ws`, for what the real client will not do: forge a line of another
 * user, count every frame the server sends, measure. Waits are for events, with deadlines.
 */
export interface RawSession {
  /** Every line received so far, in order. */
  readonly lines: string[];
  /** Frames received (a replay frame holds many lines). */
  readonly frames: number;
  send(line: string): void;
  /** Resolves with the first received line (from index `from`) matching `pred`. */
  waitFor(pred: (line: string) => boolean, what: string, from?: number, timeoutMs?: number): Promise<string>;
  /** Resolves when the server closed the socket (code), or rejects after the deadline. */
  readonly closed: Promise<number>;
  close(): void;
}

export const stamp = (): string => new Date().toISOString().replace('T', ' ').replace('Z', '+00:00');

export function rawLine(seq: number, user: string, name: string, params: readonly string[]): string {
  const padded = params.length >= 2 ? params : [...params, '', ''].slice(0, 2);
  return `${seq}, ${stamp()}, ${user}: ${name}(${padded.map((p) => `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(', ')})`;
}

export function openRaw(url: string, headers: Record<string, string> = {}): Promise<RawSession> {
  const ws = new WebSocket(url, { headers });
  const lines: string[] = [];
  let frames = 0;
  const waiters = new Set<() => void>();
  let closeCode = -1;
  const closed = new Promise<number>((resolve) =>
    ws.on('close', (code) => {
      closeCode = code;
      resolve(code);
      for (const w of waiters) w();
    }),
  );
  ws.on('message', (data) => {
    frames++;
    for (const l of data.toString().split('\n')) lines.push(l);
    for (const w of waiters) w();
  });
  const session: RawSession = {
    lines,
    get frames() {
      return frames;
    },
    send: (line) => ws.send(line),
    waitFor(pred, what, from = 0, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = lines.slice(from).find(pred);
          if (hit !== undefined) {
            done();
            resolve(hit);
          } else if (closeCode !== -1) {
            done();
            reject(
              new Error(`socket closed (${closeCode}) before ${what}; received:\n${lines.join('\n').slice(-2000)}`),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${what} within ${timeoutMs} ms; received:\n${lines.join('\n').slice(-2000)}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    closed,
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(session));
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })),
    );
    ws.once('error', (err) => reject(err));
  });
}

/** Signs in like the client (Authenticate then Replay) and waits for ReplayCompleted. */
export async function signInRaw(url: string, email: string, password: string, since = 0): Promise<RawSession> {
  const s = await openRaw(url);
  s.send(rawLine(1, 'admin@local.host', 'Authenticate', [email, `basic|${password}`, 'true']));
  s.send(rawLine(2, 'admin@local.host', 'Replay', [String(since)]));
  await s.waitFor((l) => /: ReplayCompleted\(/.test(l) || /: Error\(/.test(l), 'ReplayCompleted');
  return s;
}
