import type { ConnectionDeps, PeerSocket } from './connection';
import { BLOCK_LINES, type Hub, type HubMember } from './hub';
import { serverLine } from './protocol';

/** Lines per frame: the client yields to its event loop every 1000 lines of a frame. */
export const REPLAY_BATCH = BLOCK_LINES;
/** Unsent output above which the replay waits for the socket to drain. */
const HIGH_WATER = 4 * 1024 * 1024;

/**
 * Answers `Replay(from)`: every stored line after position `from`, in frames of up to
 * `REPLAY_BATCH` lines, then `ReplayCompleted` at the end of the last frame (nothing may follow
 * it in a frame: the client drops the rest). Lines stored while the replay streams are sent by
 * the replay itself (the hub skips a replaying member), so none is missed or sent twice; the
 * switch to live fan-out happens with no await in between.
 */
export async function replayTo(
  socket: PeerSocket,
  hub: Hub,
  member: HubMember,
  from: number,
  deps: ConnectionDeps,
): Promise<void> {
  let pos = Math.min(from, hub.count);
  member.replaying = true;
  try {
    for (;;) {
      if (!hub.members.has(member)) return; // the connection closed meanwhile
      // Whole blocks go out as the hub keeps them (encoded once); the rest is joined here.
      const aligned = pos % REPLAY_BATCH === 0 && pos + REPLAY_BATCH <= hub.count;
      const batch: readonly string[] | Buffer = aligned
        ? hub.block(pos / REPLAY_BATCH)
        : hub.slice(pos, REPLAY_BATCH - (pos % REPLAY_BATCH));
      const n = aligned ? REPLAY_BATCH : (batch as readonly string[]).length;
      pos += n;
      member.sent = Math.max(member.sent, pos);
      deps.stats.linesSent += n;
      if (pos >= hub.count) {
        const done = serverLine(Math.max(1, hub.count), deps.clock.now(), 'ReplayCompleted', []);
        member.replaying = false;
        if (n === 0) socket.send(done);
        else if (Buffer.isBuffer(batch)) socket.send(Buffer.concat([batch, Buffer.from(`\n${done}`)]));
        else socket.send(`${batch.join('\n')}\n${done}`);
        return;
      }
      await sendDrained(socket, Buffer.isBuffer(batch) ? batch : batch.join('\n'));
    }
  } finally {
    member.replaying = false;
  }
}

/** Sends a frame; waits for it to be written when the socket's output is piling up. */
function sendDrained(socket: PeerSocket, text: string | Buffer): Promise<void> {
  if (socket.bufferedAmount < HIGH_WATER) {
    socket.send(text);
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => socket.send(text, (err) => (err ? reject(err) : resolve())));
}
