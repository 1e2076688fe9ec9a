import { closeSync, openSync, statSync, watch, type FSWatcher } from 'node:fs';
import { TransportError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { TransportStatus } from '../../core/transport';
import { readLinesFd } from './lineReader';
import type { Subscription, Subscriptions } from './subscriptions';

/** What a file follower reads and whom it tells (see `createFileFollower`). */
export interface FileFollowerDeps {
  readonly path: string;
  /** How often to look for appended lines, besides file-system events. */
  readonly pollMs: number;
  readonly log: Logger;
  readonly subs: Subscriptions;
  /** Reports that the file can no longer be followed (`offline`), or can again (`online`). */
  readonly setStatus: (s: TransportStatus) => void;
}

/**
 * Follows a history file that other processes append to (the desktop app, other `fk`s): reads
 * the lines each subscriber has not seen, by byte offset, whenever a file-system event or the
 * poll says the file may have grown.
 */
export interface FileFollower {
  /**
   * Delivers the complete lines after `sub.offset` (the unterminated tail too when `final`),
   * streamed a chunk at a time: memory stays bounded by the longest line, not the file.
   * Throws when the file cannot be read or shrank.
   */
  deliver(sub: Subscription, final: boolean): void;
  /** Delivers new lines to every subscriber; a file that cannot be followed is reported once. */
  deliverAll(): void;
  /** Starts watching and polling the file (once; later calls do nothing). */
  start(): void;
  /** Stops watching and polling. */
  stop(): void;
}

/** The size of the history file in bytes; `FK_TRANSPORT_UNAVAILABLE` when it cannot be read. */
export function historySize(path: string): number {
  try {
    return statSync(path).size;
  } catch (err) {
    throw new TransportError(
      'FK_TRANSPORT_UNAVAILABLE',
      `cannot read history file '${path}': ${(err as Error).message}`,
      { cause: err },
    );
  }
}

export function createFileFollower(deps: FileFollowerDeps): FileFollower {
  const { path, log, subs, setStatus } = deps;
  let watcher: FSWatcher | null = null;
  let poll: NodeJS.Timeout | null = null;
  /** Set when the file can no longer be followed (rewritten, removed): reported once, not every poll. */
  let broken: string | null = null;

  function deliver(sub: Subscription, final: boolean): void {
    if (!sub.active) return;
    const total = historySize(path);
    if (total < sub.offset) {
      throw new TransportError(
        'FK_TRANSPORT_UNAVAILABLE',
        `history file '${path}' shrank from ${sub.offset} to ${total} bytes: it was rewritten`,
      );
    }
    if (total === sub.offset) return;
    const fd = openSync(path, 'r');
    try {
      readLinesFd(
        fd,
        (line, end) => {
          if (!sub.active) return;
          sub.offset = end;
          sub.handlers.onEntry({ line, position: String(end) });
        },
        { from: sub.offset, to: total, final },
      );
    } finally {
      closeSync(fd);
    }
  }

  function deliverAll(): void {
    for (const sub of subs) {
      try {
        deliver(sub, false);
        if (broken !== null) {
          broken = null;
          setStatus({ kind: 'online' });
        }
      } catch (err) {
        const reason = (err as Error).message;
        if (broken !== reason) {
          broken = reason;
          log.error({ err }, 'cannot follow the history file');
          setStatus({ kind: 'offline', reason });
        }
      }
    }
  }

  return {
    deliver,
    deliverAll,
    start() {
      if (watcher === null) {
        try {
          watcher = watch(path, { persistent: false }, () => deliverAll());
          watcher.on('error', (err) => log.warn({ err }, 'file watch failed; polling only'));
        } catch (err) {
          log.warn({ err }, 'file watch unavailable; polling only');
        }
      }
      if (poll === null) {
        poll = setInterval(deliverAll, deps.pollMs);
        poll.unref();
      }
    },
    stop() {
      watcher?.close();
      watcher = null;
      if (poll) clearInterval(poll);
      poll = null;
    },
  };
}
