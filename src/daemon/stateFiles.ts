import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Micros } from '../core/clock';
import { InputError } from '../core/errors';

/**
 * The small files of a daemon's state directory besides the outbox:
 * - `daemon.lock`: the pid of the daemon using the directory (one daemon per directory);
 * - `daemon-id`: a stable id, so a restarted daemon recognises its own dedupe claims;
 * - `checkpoints.json`: per user/backend, the instant up to which events were handled.
 */
export function acquireLock(stateDir: string, name: string): () => void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, 'daemon.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new InputError('FK_CONFIG_INVALID', `daemon '${name}' already runs (pid ${pid}) on state directory '${stateDir}': give another --name or --state-dir`);
      }
      unlinkSync(path); // left by a daemon that was killed
    }
  }
  throw new InputError('FK_CONFIG_INVALID', `cannot lock state directory '${stateDir}'`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function daemonIdOf(stateDir: string, name: string): string {
  const path = join(stateDir, 'daemon-id');
  if (existsSync(path)) {
    const id = readFileSync(path, 'utf8').trim();
    if (id !== '') return id;
  }
  const id = `${name}-${randomBytes(4).toString('hex')}`;
  writeFileSync(path, `${id}\n`, { mode: 0o600 });
  return id;
}

export interface Checkpoints {
  get(key: string): Micros | null;
  set(key: string, at: Micros): void;
  /** Writes if something changed (atomically: temp file + rename). */
  save(): void;
}

export function openCheckpoints(stateDir: string): Checkpoints {
  const path = join(stateDir, 'checkpoints.json');
  let data: Record<string, number> = {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (parsed !== null && typeof parsed === 'object') data = parsed as Record<string, number>;
  } catch {
    /* first run, or a torn write: the outbox still deduplicates */
  }
  let dirty = false;
  return {
    get: (key) => (typeof data[key] === 'number' ? (data[key] as number) : null),
    set(key, at) {
      if (data[key] === at) return;
      data[key] = at;
      dirty = true;
    },
    save() {
      if (!dirty) return;
      writeFileSync(`${path}.tmp`, JSON.stringify(data), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
      dirty = false;
    },
  };
}
