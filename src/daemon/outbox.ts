import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FkEvent } from '../core/notify/notifications';
import { silentLogger, type Logger } from '../core/logger';

/** One event waiting for (some of) its targets. */
export interface OutboxEntry {
  readonly id: string;
  readonly event: FkEvent;
  /** Targets that have not confirmed it yet. */
  readonly targets: ReadonlySet<string>;
}

export interface OutboxOptions {
  /** How long delivered ids are remembered, so a re-derived event is not sent again. */
  readonly ttlMs: number;
  /** Wall clock in milliseconds (seen-id ages). @default Date.now */
  readonly now?: () => number;
  /** Compact once this many delivery marks piled up. @default 1000 */
  readonly compactAfter?: number;
  /** The configured target names: pending deliveries to any other (a removed target) are dropped. */
  readonly targets?: readonly string[];
  readonly logger?: Logger;
}

/**
 * The durable outbox: a JSON-lines file, appended and fsynced before `add`/`markDone` return, so a
 * crash (kill -9, power loss) loses nothing that was accepted, and nothing confirmed is sent again.
 *
 *   {"op":"add","id":…,"t":…,"targets":[…],"event":{…}}   accepted, waiting for these targets
 *   {"op":"done","id":…,"target":…}                        confirmed by one target
 *   {"op":"drop","id":…,"target":…}                        given up (retry budget spent)
 *   {"op":"seen","id":…,"t":…}                             delivered earlier (kept by compaction)
 *
 * Delivery is at least once: a crash between a target's confirmation and its `done` line repeats
 * that one delivery. A torn last line (crash mid-append) is ignored. Compaction rewrites the
 * pending entries and the seen ids younger than the TTL to a new file and renames it in place.
 */
export interface Outbox {
  /** True when the id is pending or was delivered within the TTL. */
  has(id: string): boolean;
  /** Accepts an event for `targets`; durable when it returns. */
  add(event: FkEvent, targets: readonly string[]): void;
  /** Remembers an id without sending it (another daemon owns it). */
  markSeen(id: string): void;
  /** The oldest entry still pending for `target`. */
  next(target: string): OutboxEntry | undefined;
  markDone(id: string, target: string): void;
  markDropped(id: string, target: string): void;
  /** Pending events for one target, or distinct pending events. */
  depth(target?: string): number;
  /** Rewrites the file with only what is still needed. */
  compact(): void;
  close(): void;
}

interface Pending {
  readonly id: string;
  readonly event: FkEvent;
  readonly t: number;
  readonly targets: Set<string>;
}

type Line =
  | { op: 'add'; id: string; t: number; targets: string[]; event: FkEvent }
  | { op: 'done' | 'drop'; id: string; target: string }
  | { op: 'seen'; id: string; t: number };

function fsyncDir(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported on every file system; the rename itself is atomic */
  }
}

/** Opens (creating) the outbox at `path` and replays it. */
export function openOutbox(path: string, opts: OutboxOptions): Outbox {
  const now = opts.now ?? Date.now;
  const log = (opts.logger ?? silentLogger).child({ component: 'outbox' });
  const compactAfter = opts.compactAfter ?? 1000;
  const pending = new Map<string, Pending>();
  const seen = new Map<string, number>();
  const queues = new Map<string, string[]>();
  let marks = 0;
  let fd: number | null = null;

  const queue = (target: string): string[] => {
    let q = queues.get(target);
    if (q === undefined) queues.set(target, (q = []));
    return q;
  };

  function settle(id: string, target: string): void {
    const p = pending.get(id);
    if (p === undefined || !p.targets.delete(target)) return;
    const q = queue(target);
    const i = q.indexOf(id);
    if (i >= 0) q.splice(i, 1);
    if (p.targets.size === 0) {
      pending.delete(id);
      seen.set(id, now());
    }
  }

  function apply(l: Line): void {
    if (l.op === 'add') {
      const p: Pending = { id: l.id, event: l.event, t: l.t, targets: new Set(l.targets) };
      pending.set(l.id, p);
      for (const t of l.targets) queue(t).push(l.id);
    } else if (l.op === 'seen') seen.set(l.id, l.t);
    else {
      settle(l.id, l.target);
      marks++;
    }
  }

  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    const lines = readFileSync(path, 'utf8').split('\n');
    let skipped = 0;
    for (const [i, text] of lines.entries()) {
      if (text === '') continue;
      try {
        apply(JSON.parse(text) as Line);
      } catch (err) {
        // The last line may be torn by a crash mid-append: that record was never acknowledged.
        if (i < lines.length - 1) skipped++;
        else log.warn({ err }, 'torn last outbox line ignored');
      }
    }
    if (skipped > 0) log.error({ skipped }, 'unreadable outbox lines skipped');
  }

  function append(l: Line): void {
    if (fd === null) fd = openSync(path, 'a', 0o600);
    writeSync(fd, `${JSON.stringify(l)}\n`);
    fsyncSync(fd);
  }

  function compact(): void {
    const cutoff = now() - opts.ttlMs;
    for (const [id, t] of seen) if (t < cutoff) seen.delete(id);
    const lines: string[] = [];
    for (const [id, t] of seen) lines.push(JSON.stringify({ op: 'seen', id, t }));
    for (const p of pending.values())
      lines.push(JSON.stringify({ op: 'add', id: p.id, t: p.t, targets: [...p.targets], event: p.event }));
    const tmp = `${path}.tmp`;
    const out = openSync(tmp, 'w', 0o600);
    try {
      if (lines.length > 0) writeSync(out, `${lines.join('\n')}\n`);
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    if (fd !== null) closeSync(fd);
    fd = null;
    renameSync(tmp, path);
    fsyncDir(path);
    marks = 0;
    log.debug({ pending: pending.size, seen: seen.size }, 'outbox compacted');
  }

  if (opts.targets !== undefined) {
    const known = new Set(opts.targets);
    for (const [target, q] of [...queues]) {
      if (known.has(target) || q.length === 0) continue;
      log.warn({ target, count: q.length }, 'pending deliveries to a target no longer configured dropped');
      for (const id of [...q]) settle(id, target);
    }
  }
  compact();

  return {
    has: (id) => pending.has(id) || seen.has(id),
    add(event, targets) {
      if (pending.has(event.id) || seen.has(event.id)) return;
      const l: Line = { op: 'add', id: event.id, t: now(), targets: [...targets], event };
      append(l);
      apply(l);
    },
    markSeen(id) {
      if (pending.has(id) || seen.has(id)) return;
      const l: Line = { op: 'seen', id, t: now() };
      append(l);
      apply(l);
    },
    next(target) {
      const id = queues.get(target)?.[0];
      return id === undefined ? undefined : pending.get(id);
    },
    markDone(id, target) {
      append({ op: 'done', id, target });
      settle(id, target);
      if (++marks >= compactAfter) compact();
    },
    markDropped(id, target) {
      append({ op: 'drop', id, target });
      settle(id, target);
      if (++marks >= compactAfter) compact();
    },
    depth: (target) => (target === undefined ? pending.size : (queues.get(target)?.length ?? 0)),
    compact,
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
