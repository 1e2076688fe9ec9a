import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { CachedEntry, ReplicaCache } from '../core/client';

/**
 * Local replica of a broker history, safe for any number of processes at once without a lock.
 *
 * One append-only file, `<id>.replica`; each line is one log entry with its place in the log:
 *
 *     <index>\t<position>\t<crc32 of line, hex>\t<stored line, still encrypted>
 *
 * Every append is one `write` to a file opened with O_APPEND, so appends of concurrent processes
 * never interleave within a line; they may repeat entries (two processes caught up from the same
 * point). `load` keeps exactly the prefix 1..n of the log: an entry is taken only if its index is
 * the next one, a repeat must be identical (else the file mixes two logs and is dropped), and
 * whatever follows a gap or a torn line is ignored. Lines and position can therefore never
 * disagree (issue 11 item 1: a replica whose lines and position did not belong together made a
 * client see another history than everyone else). The client then checks the last cached entry
 * against the backend before trusting the rest (`core/replicaFollower.ts`).
 *
 * It can always be deleted: the client then rebuilds it from the backend.
 */
export function createReplicaCache(dir: string, key: string): ReplicaCache {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 32);
  const path = join(dir, `${id}.replica`);

  const drop = (): CachedEntry[] => {
    rmSync(path, { force: true });
    return [];
  };

  return {
    async load() {
      // Replicas of the earlier, two-file layout are not trusted (they caused issue 11 item 1).
      rmSync(join(dir, `${id}.lines`), { force: true });
      rmSync(join(dir, `${id}.pos`), { force: true });
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return [];
      }
      const entries: CachedEntry[] = [];
      let total = 0;
      let clean = true;
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
        total++;
        const e = parseEntry(text, start, end);
        if (e !== null && e.index <= entries.length) {
          const known = entries[e.index - 1] as CachedEntry;
          if (known.line !== e.line || known.position !== e.position) return drop();
          continue; // a repeat: two processes appended the same entries
        }
        if (e === null || e.index !== entries.length + 1) {
          clean = false; // torn, damaged or after a gap: nothing after it is trusted
          break;
        }
        entries.push({ line: e.line, position: e.position });
      }
      // Rewritten when appends would land behind something untrusted (a torn last line included).
      if (!clean || start < text.length || total > 2 * entries.length + 1000) compact(path, entries);
      return entries;
    },
    async append(index, entries) {
      let out = '';
      for (const [i, e] of entries.entries()) {
        // A line with a newline cannot be stored in this layout: stop there (the rest would be a gap).
        if (/[\n\t]/.test(e.position) || e.line.includes('\n')) break;
        out += format(index + i + 1, e);
      }
      if (out === '') return;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      appendFileSync(path, out, { mode: 0o600 });
    },
    async clear() {
      rmSync(path, { force: true });
    },
  };
}

interface Parsed {
  readonly index: number;
  readonly position: string;
  readonly line: string;
}

function parseEntry(text: string, start: number, end: number): Parsed | null {
  const t1 = text.indexOf('\t', start);
  const t2 = t1 < 0 ? -1 : text.indexOf('\t', t1 + 1);
  const t3 = t2 < 0 ? -1 : text.indexOf('\t', t2 + 1);
  if (t3 < 0 || t3 >= end) return null;
  const index = Number(text.slice(start, t1));
  const line = text.slice(t3 + 1, end);
  if (!Number.isSafeInteger(index) || index < 1 || text.slice(t2 + 1, t3) !== checksum(line)) return null;
  return { index, position: text.slice(t1 + 1, t2), line };
}

/** Catches a damaged or torn line (a writer killed mid-write, a bad disk), not an attacker. */
function checksum(line: string): string {
  return crc32(line).toString(16);
}

function format(index: number, e: CachedEntry): string {
  return `${index}\t${e.position}\t${checksum(e.line)}\t${e.line}\n`;
}

/** Rewrites the file without repeats (atomic rename; an append racing with it is merely lost). */
function compact(path: string, entries: readonly CachedEntry[]): void {
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    writeFileSync(tmp, entries.map((e, i) => format(i + 1, e)).join(''), { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    rmSync(tmp, { force: true });
  }
}
