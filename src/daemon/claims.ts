import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../core/logger';

/** Who delivers an event to a destination, among the daemons that share a dedupe directory. */
export type ClaimResult = 'mine' | 'theirs';

export interface ClaimStore {
  /**
   * Claims `(key, id)` for this daemon: `mine` when this daemon created the claim now or earlier
   * (e.g. before a restart), `theirs` when another daemon did. Never throws: a store that cannot
   * be written degrades to `mine` (a duplicate notification beats a lost one).
   */
  claim(key: string, id: string): ClaimResult;
  /** Removes claims older than the TTL; returns how many. */
  sweep(): number;
}

/**
 * Cross-daemon deduplication (issue 6: several daemons on one history must not double-notify).
 * Each `(destination key, event id)` is one file in a shared directory, created atomically: the
 * first daemon to create it owns the delivery and puts the event in its durable outbox; the
 * others skip it. Claims expire after the TTL (mtime). The directory must be shared by the
 * daemons (one host, or a network file system with atomic exclusive create).
 *
 * Limitation: if the owner dies for good before delivering, nobody else delivers that event.
 */
export function createClaimStore(dir: string, owner: string, ttlMs: number, logger: Logger = silentLogger): ClaimStore {
  const log = logger.child({ component: 'claims' });
  let ready = false;
  const fileOf = (key: string, id: string): string =>
    join(dir, createHash('sha256').update(`${key}\n${id}`).digest('hex').slice(0, 40));
  return {
    claim(key, id) {
      const path = fileOf(key, id);
      try {
        if (!ready) {
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          ready = true;
        }
        // Written aside, then hard-linked into place: link() fails with EEXIST when the claim
        // exists, and a claim is never visible half-written.
        const tmp = `${path}.${owner}.tmp`;
        writeFileSync(tmp, JSON.stringify({ owner, key, id }), { mode: 0o600 });
        try {
          linkSync(tmp, path);
          return 'mine';
        } finally {
          unlinkSync(tmp);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          log.error({ err }, 'dedupe claim failed; delivering anyway');
          return 'mine';
        }
      }
      try {
        const existing = JSON.parse(readFileSync(path, 'utf8')) as { owner?: unknown };
        return existing.owner === owner ? 'mine' : 'theirs';
      } catch (err) {
        log.warn({ err }, 'unreadable dedupe claim; leaving it to its owner');
        return 'theirs';
      }
    },
    sweep() {
      let removed = 0;
      const cutoff = Date.now() - ttlMs;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return 0;
      }
      for (const name of names) {
        const path = join(dir, name);
        try {
          if (statSync(path).mtimeMs < cutoff) {
            unlinkSync(path);
            removed++;
          }
        } catch {
          /* swept by another daemon */
        }
      }
      if (removed > 0) log.debug({ removed }, 'expired dedupe claims removed');
      return removed;
    },
  };
}
