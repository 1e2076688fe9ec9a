import { readFileSync } from 'node:fs';
import { WebSocketServer } from 'ws';

/**
 * The floor under `fk serve`'s replay, for `serveBench.ts`: a bare `ws` server in its own process
 * that answers every `Replay(…)` line with a history file's lines, prebuilt into 1000-line
 * UTF-8 frames, and a ReplayCompleted. No sign-in, no protocol, no backend.
 * Usage: node bareWsServer.js <history file>; prints `listening <port>`.
 */
const path = process.argv[2] as string;
const lines = readFileSync(path, 'utf8')
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('#'));
const frames: Buffer[] = [];
for (let i = 0; i < lines.length; i += 1000) frames.push(Buffer.from(lines.slice(i, i + 1000).join('\n'), 'utf8'));
const done = '1, 2030-01-01 00:00:00+00:00, admin@local.host: ReplayCompleted("", "")';
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    if (!/: Replay\("0"/.test(data.toString())) {
      if (/: Replay\(/.test(data.toString())) ws.send(done);
      return;
    }
    frames.forEach((f, i) =>
      ws.send(i === frames.length - 1 ? Buffer.concat([f, Buffer.from(`\n${done}`)]) : f, { binary: false }),
    );
  });
});
wss.on('listening', () => process.stdout.write(`listening ${(wss.address() as { port: number }).port}\n`));
