import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixedClock, type Micros } from '../core/clock';
import { createClient } from '../core/client';
import {
  assertEncryptedLine,
  createFernetCipher,
  createSodiumCipher,
  encryptedFormatOf,
  findSodiumHeader,
  parseSodiumHeader,
  type Cipher,
  type SodiumHeader,
} from '../core/crypto';
import { InputError, TransportError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { StrategyRecord } from '../core/engine/records';
import { applyLine, createReplayState, executeRecord, sealAtEnd, type ReplayState } from '../core/engine/replay';
import { splitLines } from '../core/engine/serializer';
import type { Transport, TransportEntry } from '../core/transport';
import { redactBackend, type Config } from './config';
import { getFernetKey, getSodiumKey } from './keyCache';
import { requirePassphrase } from './passphrase';
import type { Progress } from './progress';
import { backendKind, createTransportFor } from './session';

/**
 * Read-only access to a whole history, for the tools (export, import, stats, migrate): unlike
 * `openSession`, it never writes (no sodium header on an empty broker log, no file created, no
 * replica cache) and it returns the records themselves, decrypted, in order.
 */
export type HistoryEncryption = 'plain' | 'fernet' | 'sodium';

export interface HistoryRead {
  /** The accepted records, in order (for a broker: without lost races and rejected records). */
  readonly records: readonly StrategyRecord[];
  /** Physical line (file) or entry number (broker) of each record, for messages. */
  readonly lineNumbers: readonly number[];
  /** The replayed model, sealed at `now` like `fk state` does. */
  readonly state: ReplayState;
  readonly encryption: HistoryEncryption;
  /** The header of a sodium history (its salt and log id). */
  readonly sodiumHeader: SodiumHeader | null;
  /** Where it was read from, without credentials. */
  readonly where: string;
}

export interface ReadOptions {
  /** `--passphrase-file`; else FK_PASSPHRASE, FK_PASSPHRASE_FILE or a prompt (passphrase.ts). */
  readonly passphraseFile?: string | undefined;
  /** Base cache directory (`Config.cacheDir`); keys are cached under `keys/`. */
  readonly cacheDir: string;
  /** The instant the history is replayed at. */
  readonly now: Micros;
  readonly progress?: Progress;
}

async function cipherFor(format: HistoryEncryption, header: SodiumHeader | null, where: string, opts: ReadOptions): Promise<Cipher | undefined> {
  if (format === 'plain') return undefined;
  const passphrase = await requirePassphrase({ passphraseFile: opts.passphraseFile }, `to read the encrypted history '${where}'`);
  const cache = { cacheDir: join(opts.cacheDir, 'keys') };
  if (format === 'fernet') return createFernetCipher(await getFernetKey(passphrase, cache));
  if (header === null) throw new InputError('FK_INPUT_INVALID', `'${where}' holds sodium records but no '# fk-sodium' header line`);
  return createSodiumCipher({ key: await getSodiumKey(passphrase, header.salt, cache), logId: header.logId });
}

/**
 * Reads and strictly replays a history file (plain, Fernet or sodium), the way `fk state` does:
 * the first bad line throws, with its line number. The file is only read.
 */
export async function readHistoryFile(path: string, opts: ReadOptions): Promise<HistoryRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError('FK_INPUT_INVALID', `history file '${path}' ${code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? 'error'})`}`, {
      cause: err,
    });
  }
  const lines = splitLines(text);
  const formats = new Set(lines.map(encryptedFormatOf).filter((f) => f !== null));
  if (formats.size > 1) throw new InputError('FK_INPUT_INVALID', `'${path}' mixes Fernet and sodium records`);
  const format: HistoryEncryption = formats.has('fernet') ? 'fernet' : formats.has('sodium') ? 'sodium' : 'plain';
  const header = findSodiumHeader(lines)?.header ?? null;
  const cipher = await cipherFor(format, header, path, opts);
  const now = opts.now;
  const state = createReplayState(now);
  const records: StrategyRecord[] = [];
  const lineNumbers: number[] = [];
  lines.forEach((line, i) => {
    if (format !== 'plain') assertEncryptedLine(line, format, i + 1);
    const r = applyLine(state, line, i + 1, { mode: 'strict', now, ...(cipher ? { cipher } : {}) });
    if (r !== null) {
      records.push(r);
      lineNumbers.push(i + 1);
    }
    opts.progress?.update(i + 1, lines.length);
  });
  sealAtEnd(state, now);
  return { records, lineNumbers, state, encryption: format, sodiumHeader: header, where: path };
}

/** Every entry of a backend's log, read once from the beginning until caught up. */
async function readEntries(transport: Transport, progress?: Progress): Promise<TransportEntry[]> {
  const entries: TransportEntry[] = [];
  let caughtUp!: () => void;
  const ready = new Promise<void>((resolve) => (caughtUp = resolve));
  const unsubscribe = await transport.subscribe(null, {
    onEntry: (e) => {
      entries.push(e);
      progress?.tick();
    },
    onCaughtUp: () => caughtUp(),
  });
  await ready;
  await unsubscribe();
  return entries;
}

/** A transport that serves a fixed list of entries: lets the client's acceptance rules run on a snapshot. */
function snapshotTransport(entries: readonly TransportEntry[]): Transport {
  return {
    async connect() {},
    async publish() {
      throw new TransportError('FK_READ_ONLY', 'a history snapshot is read-only');
    },
    async subscribe(_from, handlers) {
      for (const e of entries) handlers.onEntry(e);
      queueMicrotask(() => handlers.onCaughtUp?.());
      return async () => undefined;
    },
    async close() {},
    onStatus: () => () => undefined,
  };
}

/**
 * Reads the configured backend's whole history without writing anything. A file is replayed
 * strictly (`readHistoryFile`); a broker log is accepted with the client's `race` rules (lost
 * races and rejected records are ignored, as every client ignores them), then replayed strictly.
 * Throws `InputError` for a missing file, and the history's first error when it is invalid.
 */
export async function readBackendHistory(config: Config, logger: Logger, opts: ReadOptions): Promise<HistoryRead> {
  const kind = backendKind(config.backend);
  if (kind === 'file') return readHistoryFile(config.backend, opts);
  const where = redactBackend(config.backend);
  const transport = await createTransportFor(config, logger);
  let entries: TransportEntry[];
  try {
    await transport.connect();
    entries = await readEntries(transport, opts.progress);
  } finally {
    await transport.close();
  }
  const header = entries[0] ? parseSodiumHeader(entries[0].line, 1) : null;
  const cipher = header !== null && config.encryption !== 'off' ? await cipherFor('sodium', header, where, opts) : undefined;
  const accepted: StrategyRecord[] = [];
  const lineNumbers: number[] = [];
  const client = createClient({
    transport: snapshotTransport(entries),
    user: config.user,
    sequencing: 'race',
    logger,
    requireEncryption: cipher !== undefined,
    clock: fixedClock(opts.now),
    onRecord: (r) => {
      accepted.push(r);
      lineNumbers.push(accepted.length);
    },
    ...(cipher ? { cipher } : {}),
  });
  await client.start();
  const error = client.historyError;
  await client.close();
  if (error !== null) throw error;
  const records = accepted.map((r, i) => (r.seq === i + 1 ? r : { ...r, seq: i + 1 }));
  return { ...replayRecords(records, opts.now), lineNumbers, encryption: header ? 'sodium' : 'plain', sodiumHeader: header, where };
}

/** Strictly replays accepted records (already in order, renumbered) and seals at `now`. */
export function replayRecords(records: readonly StrategyRecord[], now: Micros): { records: readonly StrategyRecord[]; state: ReplayState } {
  const state = createReplayState(now);
  records.forEach((r, i) => {
    executeRecord(state, r, { now });
    state.lastSeq = i + 1;
    state.started = true;
    state.lastUser = r.user;
  });
  sealAtEnd(state, now);
  return { records, state };
}
