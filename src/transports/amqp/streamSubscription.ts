import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { DomainError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { SubscribeHandlers } from '../../core/transport';
import { closeChannel } from './closeConnection';
import { probeTail, streamOffset } from './tailProbe';

/**
 * Insertion-ordered set that forgets its oldest ids beyond `capacity`. The order lives in a ring
 * of `capacity` slots, not in the set: taking the oldest entry of a `Set` (`values().next()`)
 * walks over the holes its deletions left, which cost about 4 µs per entry at the default window
 * of 10,000 ids (40 % of a bare subscription's CPU while replaying a long stream).
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  /** The ids in insertion order, growing to `capacity` and then overwritten oldest first. */
  readonly #order: string[] = [];
  /** Slot of the oldest id once the ring is full: the one the next add overwrites. */
  #next = 0;
  constructor(private readonly capacity: number) {}
  has(id: string): boolean {
    return this.#ids.has(id);
  }
  add(id: string): void {
    if (this.#ids.has(id) || this.capacity < 1) return; // as Set.add: a known id keeps its place
    if (this.#order.length < this.capacity) {
      this.#order.push(id);
    } else {
      this.#ids.delete(this.#order[this.#next] as string);
      this.#order[this.#next] = id;
      this.#next = (this.#next + 1) % this.capacity;
    }
    this.#ids.add(id);
  }
}

/** A history whose first entries the broker deleted (retention): refused, never replayed. */
function truncatedError(queue: string, head: number): DomainError {
  return new DomainError(
    'FK_HISTORY_INVALID',
    `amqp stream '${queue}' lost its first ${head} entries to the broker's retention (max-age or max-length-bytes, ` +
      `from the queue's arguments or a policy): the history is incomplete, refusing to read it ` +
      `(see docs/amqp.md, "Retention")`,
    { details: { queue, firstOffset: head } },
  );
}

export interface StreamSubscriptionConfig {
  readonly queue: string;
  readonly prefetch: number;
  readonly caughtUpGraceMs: number;
  readonly probeTimeoutMs: number;
  readonly dedupeWindow: number;
  /** Longest wait for a channel's close-ok. */
  readonly closeTimeoutMs: number;
  readonly log: Logger;
}

/**
 * @internal
 * One `subscribe` call, alive across reconnects. The transport `attach`es it to every new
 * connection; it resumes after the last delivered offset, so nothing is skipped, and drops what
 * it already delivered: offsets at or below the last one (a restarted stream consumer starts at
 * a chunk boundary and may resend a chunk) and ids seen recently (a publish retried after a lost
 * confirm is stored twice).
 */
export class StreamSubscription {
  #lastOffset: number;
  readonly #recent: RecentIds;
  #channel: Channel | null = null;
  #active = true;
  #target = -1;
  #caughtUpSent = false;
  #headChecked = false;
  #unacked = 0;
  readonly #ackEvery: number;

  constructor(
    private readonly config: StreamSubscriptionConfig,
    from: number | null,
    private readonly handlers: SubscribeHandlers,
  ) {
    this.#lastOffset = from ?? -1;
    this.#recent = new RecentIds(config.dedupeWindow);
    this.#ackEvery = Math.max(1, Math.floor(config.prefetch / 2));
  }

  /**
   * Starts consuming on `conn` after the last delivered offset. `onLost` is called once if the
   * channel fails later on. Rejects with the library error if the channel cannot be set up.
   */
  async attach(conn: ChannelModel, onLost: (err: Error) => void): Promise<void> {
    if (!this.#active) return;
    const { queue, prefetch, caughtUpGraceMs, probeTimeoutMs } = this.config;
    const ch = await conn.createChannel();
    // Until consuming has started, failures surface as this call's rejection, not as a loss.
    let started = false;
    ch.on('error', (err: Error) => {
      if (started && this.#active) onLost(err);
    });
    ch.on('close', () => {
      if (this.#channel === ch) this.#channel = null;
      if (started && this.#active) onLost(new Error(`channel of stream '${queue}' closed`));
    });
    this.#channel = ch;
    this.#unacked = 0;
    // Read from the very start (a new reader): the stream must start at offset 0, or retention
    // deleted the beginning of the history and what is left replays to a wrong state.
    const withHead = this.#lastOffset < 0 && !this.#headChecked;
    const { closeTimeoutMs } = this.config;
    const { tail, head } = await probeTail(conn, queue, caughtUpGraceMs, probeTimeoutMs, closeTimeoutMs, withHead);
    if (withHead) {
      this.#headChecked = true;
      if (head !== null && head > 0) throw truncatedError(queue, head);
    }
    this.#target = tail;
    this.#caughtUpSent = false;
    await ch.prefetch(prefetch);
    const start = this.#lastOffset < 0 ? 'first' : this.#lastOffset + 1;
    await ch.consume(queue, (msg) => this.#onMessage(ch, msg, onLost), {
      noAck: false,
      arguments: { 'x-stream-offset': start },
    });
    if (!this.#active) {
      await closeChannel(ch, this.config.closeTimeoutMs);
      return;
    }
    started = true;
    this.config.log.info({ start: String(start), tail }, 'subscribed');
    this.#maybeCaughtUp();
  }

  /** Forgets the channel of a lost connection (it is dead already). */
  detach(): void {
    this.#channel = null;
  }

  /**
   * Stops for good: no more entries; closes the channel when it is still open, waiting at most
   * `closeTimeoutMs`. Resolves false when the broker did not confirm the close (the link is
   * suspect: the caller drops the connection).
   */
  async stop(): Promise<boolean> {
    if (!this.#active) return true;
    this.#active = false;
    const ch = this.#channel;
    this.#channel = null;
    return ch === null ? true : closeChannel(ch, this.config.closeTimeoutMs);
  }

  /** Stops for good without closing the channel: the connection is about to close with it. */
  abandon(): void {
    this.#active = false;
    this.#channel = null;
  }

  #onMessage(ch: Channel, msg: ConsumeMessage | null, onLost: (err: Error) => void): void {
    if (!this.#active || ch !== this.#channel) return;
    if (msg === null) {
      onLost(new Error(`consumer of stream '${this.config.queue}' cancelled by the broker`));
      return;
    }
    this.#ack(ch, msg);
    const offset = streamOffset(msg);
    if (offset === null) {
      this.config.log.warn({ queue: this.config.queue }, 'delivery without stream offset dropped');
      return;
    }
    // The stream is in order: an entry past the tail means everything up to it came already.
    if (offset > this.#target) this.#maybeCaughtUp(true);
    if (offset <= this.#lastOffset) return;
    this.#lastOffset = offset;
    const id = msg.properties.messageId as unknown;
    const hasId = typeof id === 'string' && id !== '';
    if (hasId) {
      if (this.#recent.has(id)) {
        this.config.log.debug({ position: String(offset) }, 'duplicate entry dropped');
        this.#maybeCaughtUp();
        return;
      }
      this.#recent.add(id);
    }
    const line = msg.content.toString('utf8');
    const position = String(offset);
    try {
      this.handlers.onEntry(hasId ? { line, position, id } : { line, position });
    } catch (err) {
      // STYLE §4: one failing entry is logged and dropped; the subscription keeps running.
      this.config.log.error({ err, position }, 'entry handler failed');
    }
    this.#maybeCaughtUp();
  }

  /** Streams need acks only to refill credit; acking in batches (`multiple`) keeps it cheap. */
  #ack(ch: Channel, msg: ConsumeMessage): void {
    if (++this.#unacked < this.#ackEvery) return;
    this.#unacked = 0;
    try {
      ch.ack(msg, true);
    } catch {
      // The channel just closed; the transport reconnects and resumes by offset.
    }
  }

  #maybeCaughtUp(pastTail = false): void {
    if (this.#caughtUpSent || !this.#active || (!pastTail && this.#lastOffset < this.#target)) return;
    this.#caughtUpSent = true;
    try {
      this.handlers.onCaughtUp?.();
    } catch (err) {
      this.config.log.error({ err }, 'caught-up handler failed');
    }
  }
}
