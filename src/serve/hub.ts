import { randomUUID } from 'node:crypto';
import { TransportError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Transport, TransportEntry, Unsubscribe } from '../core/transport';
import { isEmptyLine } from '../core/engine/serializer';
import { readInbound } from './protocol';

/**
 * One account's history while `fk serve` has connections for it: a single transport onto the
 * backend, the stored lines (in the backend's order, for replays), the connections to fan out
 * to, and one queue of appends.
 *
 * Positions: the n-th stored record line is position n (the seed is 1). A client's `Replay(N)`
 * names its last seq; with contiguous seqs from 1 that is a position, and when a lost race made
 * positions run ahead of seqs, replaying from the position resends a few lines the client skips
 * (seq <= last seq), never fewer.
 *
 * Every line, ours or another writer's (`fk` on the same backend, another server), reaches the
 * connections through the transport's subscription, in the backend's order.
 */
export interface HubMember {
  readonly id: number;
  /** Highest position sent to this connection (replay or live). */
  sent: number;
  /** Highest position of a line this connection wrote (accepted, in flight or stored). */
  own: number;
  /** True while a replay streams lines to it: the replay sends what arrives meanwhile. */
  replaying: boolean;
  /** A stored line for this connection (live fan-out). */
  deliver(line: string, position: number): void;
  /** One of its own lines turned out lost in the backend's order (another writer took its seq). */
  lost(seq: number): void;
  /** The account's history was deleted (by this or another connection). */
  accountDeleted(): void;
  /** Close the connection (the client reconnects). */
  kick(reason: string): void;
}

export type SubmitResult =
  | { readonly ok: true; readonly position: number }
  | { readonly ok: false; readonly code: number; readonly message: string };

interface InFlight {
  readonly id: string;
  readonly line: string;
  readonly member: HubMember;
  /** The plaintext seq, or null for an encrypted line. */
  readonly seq: number | null;
  readonly position: number;
  seen: boolean;
  /** Resolves once the line came back through the subscription (it is in the log). */
  readonly onSeen: () => void;
}

export interface Hub {
  readonly account: string;
  /** Stored record lines. */
  readonly count: number;
  readonly members: ReadonlySet<HubMember>;
  /** Stored lines from position `from` (0-based index = position - 1), at most `max`. */
  slice(from: number, max: number): readonly string[];
  /**
   * Stored lines `[i * BLOCK_LINES, (i + 1) * BLOCK_LINES)` joined by newlines, as UTF-8: encoded
   * once and kept (a stored line never changes), so replays send them without re-encoding.
   * Only for complete blocks.
   */
  block(i: number): Buffer;
  join(member: HubMember): void;
  leave(member: HubMember): void;
  /** Appends one record line from a member (queued: one append at a time). */
  submit(member: HubMember, line: string): Promise<SubmitResult>;
  /** Appends the seed line if the history is still empty (queued); true when it did. */
  seed(line: string): Promise<boolean>;
  /** Runs `task` after every queued append, with nothing else appending meanwhile. */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  readonly online: boolean;
  close(): Promise<void>;
}

export interface HubOptions {
  readonly account: string;
  readonly transport: Transport;
  readonly logger: Logger;
  /** How long the seed may take to come back through the subscription. @default 30000 */
  readonly seenTimeoutMs?: number;
}

/** Lines per cached replay block (the replay's frame size). */
export const BLOCK_LINES = 1000;
const SEQ_HEAD = /^([1-9][0-9]{0,15}), /;

/** The writer of the seed: no connection, so every member gets the line. */
const SERVER: HubMember = {
  id: 0,
  sent: 0,
  own: 0,
  replaying: false,
  deliver: () => undefined,
  lost: () => undefined,
  accountDeleted: () => undefined,
  kick: () => undefined,
};

/** Opens the transport and reads the whole history; resolves once caught up. */
export async function openHub(opts: HubOptions): Promise<Hub> {
  const { account, transport } = opts;
  const seenTimeoutMs = opts.seenTimeoutMs ?? 30_000;
  const log = opts.logger.child({ component: 'hub', account });
  const lines: string[] = [];
  const blocks: Buffer[] = [];
  const members = new Set<HubMember>();
  const inFlight: InFlight[] = [];
  /** Estimated seq of the last stored line (encrypted lines are assumed to take the next one). */
  let lastSeq = 0;
  let online = false;
  let queue: Promise<unknown> = Promise.resolve();
  let unsubscribe: Unsubscribe | null = null;

  const offStatus = transport.onStatus((s) => {
    online = s.kind === 'online';
  });

  /** The seq of a stored line: read from a plaintext line's head, the next one for a Fernet line. */
  function seqOf(line: string, previous: number): number | null {
    if (line.charCodeAt(0) === 43 /* + */) return previous + 1;
    const m = SEQ_HEAD.exec(line);
    return m ? Number(m[1]) : null;
  }

  function onEntry(entry: TransportEntry): void {
    if (isEmptyLine(entry.line)) return; // comments (a sodium header), blank lines: no position
    lines.push(entry.line);
    const position = lines.length;
    const head = inFlight[0];
    const mine =
      head !== undefined && !head.seen && (entry.id === head.id || entry.line === head.line) ? head : undefined;
    const seq = seqOf(entry.line, lastSeq);
    if (mine) {
      mine.seen = true;
      inFlight.shift();
      mine.onSeen();
      mine.member.own = Math.max(mine.member.own, position);
      if (mine.seq !== null && mine.seq <= lastSeq) {
        // Another writer took this seq first: every reader ignores this line.
        mine.member.lost(mine.seq);
        return;
      }
    }
    if (seq !== null && seq > lastSeq) lastSeq = seq;
    for (const m of members) {
      if (m === mine?.member || m.replaying) continue;
      m.sent = position;
      m.deliver(entry.line, position);
    }
  }

  function enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  }

  /** The seq the next line should carry, counting lines still in flight. */
  function expectedSeq(): number {
    let s = lastSeq;
    for (const f of inFlight) s = f.seq ?? s + 1;
    return s + 1;
  }

  /** Own lines each member submitted that wait in the queue (it counts them as known). */
  const queuedOwn = new Map<HubMember, number>();

  /**
   * `known`: how many lines the member had when its line arrived (sent to it, plus its own, plus
   * its own still queued). Taken on arrival, not when the queue gets to the line: a line stored
   * and sent to it in between was not known when the client wrote.
   */
  async function append(member: HubMember, line: string, known: number): Promise<SubmitResult> {
    const expectedCount = lines.length + inFlight.length;
    if (known < expectedCount) {
      // It wrote without having every stored line: its seq is already taken.
      return {
        ok: false,
        code: 409,
        message: `Sequence conflict: the history has ${expectedCount} records, this client had not received them all`,
      };
    }
    const r = readInbound(line);
    const seq = r.kind === 'record' && !r.encrypted ? r.seq : null;
    if (seq !== null && seq !== expectedSeq()) {
      return { ok: false, code: 409, message: `Sequence conflict: received ${seq}, expected ${expectedSeq()}` };
    }
    const f: InFlight = {
      id: randomUUID(),
      line,
      member,
      seq,
      position: expectedCount + 1,
      seen: false,
      onSeen: () => undefined,
    };
    const ownBefore = member.own;
    inFlight.push(f);
    member.own = f.position;
    try {
      await transport.publish(line, { id: f.id, seq: seq ?? 0 });
      return { ok: true, position: f.position };
    } catch (err) {
      if (f.seen) return { ok: true, position: f.position };
      inFlight.splice(inFlight.indexOf(f), 1);
      member.own = ownBefore;
      const code = (err as { code?: string }).code;
      if (code === 'FK_SEQUENCE_CONFLICT') {
        // The file grew under us (another writer): those lines are delivered now, ours is stale.
        return { ok: false, code: 409, message: 'Sequence conflict: another writer appended first' };
      }
      log.warn({ err }, 'append failed');
      return { ok: false, code: 503, message: 'The history is not available, the record was not stored' };
    }
  }

  await transport.connect();
  try {
    let caughtUp!: () => void;
    const ready = new Promise<void>((resolve) => (caughtUp = resolve));
    unsubscribe = await transport.subscribe(null, { onEntry, onCaughtUp: () => caughtUp() });
    await ready;
  } catch (err) {
    offStatus();
    await transport.close().catch(() => undefined);
    throw err;
  }
  online = true;
  log.debug({ lines: lines.length }, 'history open');

  return {
    account,
    get count() {
      return lines.length;
    },
    members,
    slice: (from, max) => lines.slice(from, from + max),
    block(i) {
      let b = blocks[i];
      if (b === undefined) {
        if ((i + 1) * BLOCK_LINES > lines.length) throw new Error(`block ${i} is not complete`);
        b = Buffer.from(lines.slice(i * BLOCK_LINES, (i + 1) * BLOCK_LINES).join('\n'), 'utf8');
        blocks[i] = b;
      }
      return b;
    },
    join: (m) => void members.add(m),
    leave: (m) => void members.delete(m),
    submit(member, line) {
      const queued = queuedOwn.get(member) ?? 0;
      const known = Math.max(member.sent, member.own) + queued;
      queuedOwn.set(member, queued + 1);
      return enqueue(() => append(member, line, known)).finally(() => {
        const left = (queuedOwn.get(member) ?? 1) - 1;
        if (left > 0) queuedOwn.set(member, left);
        else queuedOwn.delete(member);
      });
    },
    seed: (line) =>
      enqueue(async () => {
        if (lines.length > 0 || inFlight.length > 0) return false;
        // Written for everyone, the connection that triggered it included; waits until it is in
        // the log, so the replay that follows holds it.
        let seen!: () => void;
        const inLog = new Promise<void>((resolve) => (seen = resolve));
        const f: InFlight = { id: randomUUID(), line, member: SERVER, seq: 1, position: 1, seen: false, onSeen: seen };
        inFlight.push(f);
        try {
          await transport.publish(line, { id: f.id, seq: 1 });
        } catch (err) {
          if (!f.seen) inFlight.splice(inFlight.indexOf(f), 1);
          throw err;
        }
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new TransportError('FK_TRANSPORT_TIMEOUT', 'the seed line was stored but not read back')),
            seenTimeoutMs,
          );
        });
        try {
          await Promise.race([inLog, late]);
        } finally {
          clearTimeout(timer);
        }
        return true;
      }),
    exclusive: (task) => enqueue(task),
    get online() {
      return online;
    },
    async close() {
      offStatus();
      await unsubscribe?.().catch(() => undefined);
      await transport.close();
    },
  };
}
