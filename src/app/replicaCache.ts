import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ReplicaCache } from '../core/client';

/**
 * Local replica of a broker history: the stored (still encrypted) lines in `<id>.lines` and the
 * resume point in `<id>.pos` (`{position, count}`), written after the lines, so a crash between
 * the two only makes the cache resume a little earlier. It can always be deleted: the client
 * then rebuilds from the backend.
 */
export function createReplicaCache(dir: string, key: string): ReplicaCache {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 32);
  const linesPath = join(dir, `${id}.lines`);
  const posPath = join(dir, `${id}.pos`);
  let count = 0;
  /** An unreadable replica is removed, so the rebuilt one does not get appended after stale lines. */
  const discard = (): null => {
    rmSync(linesPath, { force: true });
    rmSync(posPath, { force: true });
    return null;
  };
  return {
    async load() {
      let pos: { position: unknown; count: unknown };
      let text: string;
      try {
        pos = JSON.parse(readFileSync(posPath, 'utf8')) as { position: unknown; count: unknown };
        text = readFileSync(linesPath, 'utf8');
      } catch {
        return discard();
      }
      const lines = text.split('\n');
      lines.pop();
      if (typeof pos !== 'object' || pos === null) return discard();
      if (typeof pos.count !== 'number' || !Number.isSafeInteger(pos.count) || pos.count < 0 || lines.length < pos.count) return discard();
      if (typeof pos.position !== 'string' && pos.position !== null) return discard();
      count = pos.count;
      if (lines.length > pos.count) {
        writeFileSync(linesPath, lines.slice(0, pos.count).map((l) => `${l}\n`).join(''), { mode: 0o600 });
      }
      return { position: pos.position, lines: lines.slice(0, pos.count) };
    },
    async append(lines, position) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      appendFileSync(linesPath, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
      count += lines.length;
      writeFileSync(`${posPath}.tmp`, JSON.stringify({ position, count }), { mode: 0o600 });
      renameSync(`${posPath}.tmp`, posPath);
    },
    async clear() {
      count = 0;
      rmSync(linesPath, { force: true });
      rmSync(posPath, { force: true });
    },
  };
}
