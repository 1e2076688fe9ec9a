import { join } from 'node:path';
import type { Micros } from '../core/clock';
import type { Cipher, SodiumHeader } from '../core/crypto';
import { InputError } from '../core/errors';
import type { Logger } from '../core/logger';
import { renumbered, type StrategyRecord } from '../core/engine/records';
import { applyLine, createHistoryState, settleKey } from '../core/engine/engine';
import type { EngineOptions, HistoryEncryption } from '../core/engine/engine';
import { sealAtEnd, type ReplayState } from '../core/engine/replay';
import { readLog } from '../core/readLog';
import type { Transport, TransportEntry } from '../core/transport';
import { redactBackend, type Config } from './config';
import { detectEncryption } from './historyEncryption';
import { createHistoryCipher } from './historyCipher';
import { requirePassphrase } from './passphrase';
import type { Progress } from './progress';
import { backendKind, createTransportFor } from './session';
import { readLines } from '../transports/file';

/**
 * Read-only access to a whole history, for the commands that read (state, check, export, import,
 * stats, migrate): unlike `openSession`, it never writes (no sodium header on an empty broker log,
 * no file created, no replica cache). Every line goes through the record engine
 * (`core/engine/engine.ts`): a file with Flowkeeper's `strict` rule (or `lenient`), a broker log
 * with the `race` rule every client applies.
 */
export type { HistoryEncryption };

export interface HistoryRead {
  /** The accepted records, in order (for a broker: without lost races and ignored records). */
  readonly records: readonly StrategyRecord[];
  /** Physical line (file) or entry number (broker) of each record, for messages. */
  readonly lineNumbers: readonly number[];
  /** The engine's state after the last line, sealed at `now` like `fk state` does (unless `seal: false`). */
  readonly state: ReplayState;
  readonly encryption: HistoryEncryption;
  /** The header of a sodium history (its salt and log id). */
  readonly sodiumHeader: SodiumHeader | null;
  /** Where it was read from, without credentials. */
  readonly where: string;
  /** Physical lines (file) or entries (broker) read. */
  readonly lines: number;
}

export interface ReadOptions {
  /** `--passphrase-file`; else FK_PASSPHRASE, FK_PASSPHRASE_FILE or a prompt (passphrase.ts). */
  readonly passphraseFile?: string | undefined;
  /** Base cache directory (`Config.cacheDir`); keys are cached under `keys/`. */
  readonly cacheDir: string;
  /** The instant every record is applied at and the history is sealed at. */
  readonly now: Micros;
  readonly progress?: Progress;
  /** Files only: `strict` (default) throws the first bad line; `lenient` lists them (`fk check`). */
  readonly policy?: 'strict' | 'lenient';
  /** Throw the history's error (default), or return the state with `state.error` set (`fk check`). */
  readonly throwOnError?: boolean;
  /** Keep the records (default); `fk state` needs only the model. */
  readonly keepRecords?: boolean;
}

export { detectEncryption };

async function cipherFor(
  format: HistoryEncryption,
  header: SodiumHeader | null,
  where: string,
  opts: ReadOptions,
): Promise<Cipher | undefined> {
  if (format === 'plain') return undefined;
  const why = `to read the encrypted history '${where}'`;
  const passphrase = await requirePassphrase({ passphraseFile: opts.passphraseFile }, why);
  const cache = { cacheDir: join(opts.cacheDir, 'keys') };
  if (format === 'fernet') return createHistoryCipher(passphrase, { format }, cache);
  if (header === null) {
    throw new InputError('FK_INPUT_INVALID', `'${where}' holds sodium records but no '# fk-sodium' header line`);
  }
  return createHistoryCipher(passphrase, { format, salt: header.salt, logId: header.logId }, cache);
}

/** Feeds stored lines through the record engine; collects what it accepted. */
function scan(
  lines: readonly string[],
  engine: EngineOptions,
  opts: ReadOptions,
  where: string,
  header: SodiumHeader | null,
): HistoryRead {
  const state = createHistoryState(opts.now);
  const keep = opts.keepRecords ?? true;
  const records: StrategyRecord[] = [];
  const lineNumbers: number[] = [];
  const ctx = { now: opts.now };
  for (const line of lines) {
    const out = applyLine(state, line, engine, ctx);
    if (out.kind === 'applied' && keep) {
      records.push(out.record);
      lineNumbers.push(state.lineNumber);
    }
    if (state.error !== null && engine.policy === 'strict') break;
    opts.progress?.update(state.lineNumber, lines.length);
  }
  if (engine.policy === 'race') settleKey(state);
  if (state.error !== null && (opts.throwOnError ?? true)) throw state.error;
  if (state.error === null) sealAtEnd(state, opts.now);
  const encryption = engine.encryption ?? 'plain';
  return { records, lineNumbers, state, encryption, sodiumHeader: header, where, lines: lines.length };
}

/**
 * Reads and replays a history file (plain, Fernet or sodium) through the record engine, the way
 * `fk state` does: `strict` throws the first bad line, with its line number. The file is only read.
 */
export async function readHistoryFile(path: string, opts: ReadOptions): Promise<HistoryRead> {
  // Read line by line (no single string): a file over Node's string limit (~512 MiB) reads too.
  const lines: string[] = [];
  try {
    readLines(path, (text) => lines.push(text));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      'FK_INPUT_INVALID',
      `history file '${path}' ${code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? 'error'})`}`,
      {
        cause: err,
      },
    );
  }
  const { encryption, header, served } = detectEncryption(lines);
  const cipher = await cipherFor(encryption, header, path, opts);
  // A file a sync server writes follows the protocol's rule (the first record of a seq wins).
  const policy = opts.policy ?? (served ? 'race' : 'strict');
  const engine: EngineOptions = { policy, encryption, ...(cipher ? { cipher } : {}) };
  return scan(lines, engine, opts, path, header);
}

/** Every entry of a backend's log, read once from the beginning until caught up. */
async function readEntries(transport: Transport, progress?: Progress): Promise<TransportEntry[]> {
  const entries: TransportEntry[] = [];
  await readLog(transport, null, (e) => {
    entries.push(e);
    progress?.tick();
  });
  return entries;
}

/**
 * Reads the configured backend's whole history without writing anything: a file as
 * `readHistoryFile` does, a broker log with the `race` rule (lost races, rejected and
 * unauthentic records are ignored, as every client ignores them). Throws `InputError` for a
 * missing file, and the history's first error when it is invalid (unless `throwOnError: false`).
 */
export async function readBackendHistory(config: Config, logger: Logger, opts: ReadOptions): Promise<HistoryRead> {
  const kind = backendKind(config.backend);
  if (kind === 'file') return readHistoryFile(config.backend, opts);
  const where = redactBackend(config.backend);
  // Reading only: read permission on the broker is enough (no declare, no publish).
  const transport = await createTransportFor({ ...config, readOnly: true }, logger);
  let entries: TransportEntry[];
  try {
    await transport.connect();
    entries = await readEntries(transport, opts.progress);
  } finally {
    await transport.close();
  }
  const lines = entries.map((e) => e.line);
  const { encryption, header } = detectEncryption(lines);
  if (encryption !== 'plain' && config.encryption === 'off') {
    const message = `the history at '${where}' is encrypted; --encryption off cannot read it`;
    throw new InputError('FK_CONFIG_INVALID', message);
  }
  const cipher = await cipherFor(encryption, header, where, opts);
  const read = scan(lines, { policy: 'race', encryption, ...(cipher ? { cipher } : {}) }, opts, where, header);
  // Flowkeeper numbers a history from 1; a broker's first accepted record may carry another number.
  return { ...read, records: renumbered(read.records) };
}
