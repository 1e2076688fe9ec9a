import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors';
import { describeHolder, tryLockFile } from '../transports/file';
import type { Logger } from '../core/logger';
import { createClaimStore, type ClaimStore } from './claims';
import type { Checkpoint } from './eventRouter';
import type { DaemonConfig } from './options';
import { openOutbox, type Outbox } from './outbox';

/**
 * The small files of a daemon's state directory besides the outbox:
 * - `daemon.lock`: held by the daemon using the directory (one daemon per directory), an OS lock
 *   that dies with its holder (the file history's lock helper), naming it in the error;
 * - `daemon-id`: a stable id, so a restarted daemon recognises its own dedupe claims;
 * - `checkpoints.json`: per user/backend, up to where events were handled: the instant (timer
 *   transitions) and the last record's sequence (`{"at": µs, "seq": n}`; older files hold the
 *   instant alone).
 */
export function acquireLock(stateDir: string, name: string): () => void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const r = tryLockFile(join(stateDir, 'daemon.lock'));
  if (r.held === null) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `daemon '${name}' already runs on state directory '${stateDir}' (${describeHolder(r.holder)}): ` +
        'give another --name or --state-dir',
    );
  }
  const held = r.held;
  return () => held.release();
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
  get(key: string): Checkpoint | null;
  set(key: string, checkpoint: Checkpoint): void;
  /** Writes if something changed (atomically: temp file + rename). */
  save(): void;
}

function checkpointOf(v: unknown): Checkpoint | null {
  if (typeof v === 'number' && Number.isFinite(v)) return { at: v, seq: null };
  if (v === null || typeof v !== 'object') return null;
  const { at, seq } = v as { at?: unknown; seq?: unknown };
  if (typeof at !== 'number' || !Number.isFinite(at)) return null;
  return { at, seq: typeof seq === 'number' && Number.isInteger(seq) ? seq : null };
}

export function openCheckpoints(stateDir: string): Checkpoints {
  const path = join(stateDir, 'checkpoints.json');
  let data: Record<string, Checkpoint> = {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (parsed !== null && typeof parsed === 'object') {
      for (const [k, v] of Object.entries(parsed)) {
        const c = checkpointOf(v);
        if (c !== null) data[k] = c;
      }
    }
  } catch {
    data = {}; // first run, or a torn write: the outbox still deduplicates
  }
  let dirty = false;
  return {
    get: (key) => data[key] ?? null,
    set(key, c) {
      const old = data[key];
      if (old !== undefined && old.at === c.at && old.seq === c.seq) return;
      data[key] = { at: c.at, seq: c.seq };
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

/** What a running daemon holds in its state directory (and the shared dedupe directory). */
export interface DaemonState {
  readonly id: string;
  readonly outbox: Outbox;
  readonly claims: ClaimStore;
  readonly checkpoints: Checkpoints;
  /** The hourly sweep of claims and outbox; ref'd on purpose: it keeps the process alive (11.6). */
  readonly sweep: NodeJS.Timeout;
  /** Releases the state directory's lock. */
  readonly release: () => void;
}

/** Locks the state directory and opens the daemon id, outbox, claims and checkpoints. */
export function openDaemonState(config: DaemonConfig, logger: Logger): DaemonState {
  const release = acquireLock(config.stateDir, config.name);
  try {
    const id = daemonIdOf(config.stateDir, config.name);
    const outbox = openOutbox(join(config.stateDir, 'outbox.jsonl'), {
      ttlMs: config.dedupeTtlMs,
      targets: config.targets.map((t) => t.name),
      logger,
    });
    const claims = createClaimStore(config.dedupeDir, id, config.dedupeTtlMs, logger);
    claims.sweep();
    const checkpoints = openCheckpoints(config.stateDir);
    // A daemon runs until it is told to stop, even with nothing armed and no HTTP endpoint.
    const sweep = setInterval(() => {
      claims.sweep();
      outbox.compact();
    }, 3_600_000);
    return { id, outbox, claims, checkpoints, sweep, release };
  } catch (err) {
    release();
    throw err;
  }
}
