import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { canonicalJson, canonicalState } from '../../core/engine/canonical';
import { formatSodiumHeader, parseSodiumHeader, type Cipher } from '../../core/crypto';
import { DomainError, InputError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { renumbered, type StrategyRecord } from '../../core/engine/records';
import { splitLines } from '../../core/engine/serializer';
import type { Transport } from '../../core/transport';
import { readLog } from '../../core/readLog';
import { loadConfig, redactBackend, type Config, type EncryptionMode } from '../../app/config';
import { readBackendHistory, type HistoryEncryption, type HistoryRead } from '../../app/historySource';
import { createHistoryCipher } from '../../app/historyCipher';
import { createLogger } from '../../app/logger';
import { assertOutputAllowed, writeOutputFile } from '../outputFile';
import { DEFAULT_LOCK_TIMEOUT_MS, lockFile } from '../../transports/file';
import { resolvePassphrase, requirePassphrase } from '../../app/passphrase';
import { createProgress } from '../../app/progress';
import { print, printJson, type GlobalFlags } from '../run';
import { backendKind, openSession } from '../../app/session';
import { fernetForOutput, historyText, parseNowOption } from '../toolsCommon';

interface MigrateFlags {
  from: string;
  to: string;
  toEncryption: EncryptionMode;
  toPassphraseFile?: string;
  now?: string;
  json?: boolean;
}

/** How many publishes are in flight at once towards a broker (its confirms keep them ordered). */
const PUBLISH_WINDOW = 256;

/**
 * `fk migrate --from A --to B`: copies a whole history between backends (file, amqp://,
 * xmpp://), decrypting the source and encrypting for the target (file: plain or Fernet;
 * broker: the sodium envelope, header set up by `openSession`). Refuses a target that already
 * holds records, and verifies the copy by reading the target back and comparing canonical states.
 */
export function register(program: Command): void {
  program
    .command('migrate')
    .description('copy a history between backends (file, amqp://, xmpp://) and verify the copy')
    .requiredOption('--from <backend>', 'source: a file path, amqp://… or xmpp://… (only read)')
    .requiredOption('--to <backend>', 'target: must hold no records yet')
    .addOption(
      new Option(
        '--to-encryption <mode>',
        'target encryption; auto: encrypted when the source is (or, for a broker, when a passphrase is set)',
      )
        .choices(['auto', 'off', 'fernet', 'sodium'])
        .default('auto'),
    )
    .option('--to-passphrase-file <path>', 'passphrase of the target, when it differs from the source')
    .option('--now <iso8601>', 'instant both histories are replayed at for the check (default: now)')
    .option('--json', 'print a JSON summary')
    .action(async (flags: MigrateFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalFlags>();
      const base = { user: g.user, logLevel: g.logLevel, config: g.config };
      const src = loadConfig({
        ...base,
        backend: flags.from,
        encryption: g.encryption,
        passphraseFile: g.passphraseFile,
      });
      const dstRaw = loadConfig({
        ...base,
        backend: flags.to,
        encryption: flags.toEncryption,
        passphraseFile: flags.toPassphraseFile ?? g.passphraseFile,
      });
      if (src.backend === dstRaw.backend)
        throw new InputError('FK_INPUT_INVALID', `--from and --to are the same backend '${flags.from}'`);
      const logger = createLogger(src.logLevel, { cmd: 'migrate' });
      const now = parseNowOption(flags.now);
      const started = performance.now();
      const source = await readAll(src, logger, now, 'reading source');
      if (source.records.length === 0)
        throw new InputError('FK_INPUT_INVALID', `'${source.where}' holds no records: nothing to migrate`);
      const records = renumbered(source.records);
      const dst = { ...dstRaw, encryption: await targetEncryption(dstRaw, source.encryption) };
      const written =
        backendKind(dst.backend) === 'file'
          ? await writeFileTarget(dst, records)
          : await publishToBroker(dst, records, logger);
      const target = await readAll(dst, logger, now, 'verifying target');
      const same =
        target.records.length === records.length &&
        canonicalJson(canonicalState(source.state, 'strict', now)) ===
          canonicalJson(canonicalState(target.state, 'strict', now));
      if (!same) {
        throw new DomainError(
          'FK_HISTORY_INVALID',
          `verification failed: '${target.where}' does not replay to the state of '${source.where}' ` +
            `(${target.records.length} of ${records.length} records read back)`,
        );
      }
      const summary = {
        from: source.where,
        to: target.where,
        records: records.length,
        sourceEncryption: source.encryption,
        targetEncryption: written,
        verified: true,
        seconds: Math.round(performance.now() - started) / 1000,
      };
      if (flags.json) printJson(summary);
      else
        print(
          `migrated ${records.length} records from '${source.where}' (${source.encryption}) to '${target.where}' ` +
            `(${written}) in ${summary.seconds} s; final state verified identical`,
        );
    });
}

async function readAll(config: Config, logger: Logger, now: number, label: string): Promise<HistoryRead> {
  const progress = createProgress({ label });
  try {
    return await readBackendHistory(config, logger, {
      passphraseFile: config.passphraseFile,
      cacheDir: config.cacheDir,
      now,
      progress,
    });
  } finally {
    progress.done();
  }
}

/** Resolves `auto`: keep the source's protection; for a broker also encrypt whenever a passphrase is available. */
async function targetEncryption(dst: Config, source: HistoryEncryption): Promise<EncryptionMode> {
  const kind = backendKind(dst.backend);
  if (dst.encryption !== 'auto') return dst.encryption;
  if (kind === 'file') return source === 'plain' ? 'off' : 'fernet';
  if (source !== 'plain') return 'sodium';
  const passphrase = await resolvePassphrase({ passphraseFile: dst.passphraseFile, input: { isTTY: false } as never });
  return passphrase === null ? 'off' : 'sodium';
}

function alreadyHolds(where: string, n: number): DomainError {
  return new DomainError(
    'FK_ALREADY_EXISTS',
    `target '${where}' already holds ${n} record${n === 1 ? '' : 's'}: migrate only into an empty history`,
  );
}

/** A file target: written at once (temp file + rename), plain, Fernet or sodium. */
async function writeFileTarget(dst: Config, records: readonly StrategyRecord[]): Promise<HistoryEncryption> {
  await assertNoRecords(dst.backend);
  let cipher: Cipher | undefined;
  let header = '';
  if (dst.encryption === 'fernet') cipher = await fernetForOutput(dst, `to encrypt '${dst.backend}'`);
  if (dst.encryption === 'sodium') {
    const logId = randomUUID();
    const salt = new Uint8Array(randomBytes(16));
    const passphrase = await requirePassphrase({ passphraseFile: dst.passphraseFile }, `to encrypt '${dst.backend}'`);
    cipher = await createHistoryCipher(
      passphrase,
      { format: 'sodium', salt, logId },
      { cacheDir: join(dst.cacheDir, 'keys') },
    );
    header = `${formatSodiumHeader({ logId, salt })}\n`;
  }
  // Under the history lock, so no `fk` appends between the check and the write. A file that
  // exists but holds no record (empty, blank or comment lines) is replaced: nothing is lost.
  const lock = await lockFile(`${await realpath(dst.backend).catch(() => dst.backend)}.lock`, {
    timeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
    what: `history file '${dst.backend}'`,
  });
  try {
    await assertNoRecords(dst.backend);
    await writeOutputFile({ path: dst.backend, force: true, forceOption: null }, header + historyText(records, cipher));
  } finally {
    lock.release();
  }
  return cipher?.format ?? 'plain';
}

async function assertNoRecords(path: string): Promise<void> {
  await assertOutputAllowed({ path, force: true, forceOption: null });
  const existing = await readFile(path, 'utf8').catch(() => '');
  const held = splitLines(existing).filter((l) => l.trim() !== '' && !l.startsWith('#')).length;
  if (held > 0) throw alreadyHolds(path, held);
}

/** The first entry of a log (its sodium header, when encrypted). */
async function firstLine(transport: Transport): Promise<string | null> {
  let line: string | null = null;
  await readLog(transport, null, (e) => {
    line = e.line;
    return true;
  });
  return line;
}

/**
 * A broker target: `openSession` sets up the log exactly as `fk` always does (writing the sodium
 * header of a new encrypted history); the records are then published in order, in windows.
 */
async function publishToBroker(
  dst: Config,
  records: readonly StrategyRecord[],
  logger: Logger,
): Promise<HistoryEncryption> {
  const session = await openSession(dst, logger);
  const bar = createProgress({ label: 'writing target', total: records.length });
  try {
    const held = session.client.state.lastSeq;
    if (session.client.state.started) throw alreadyHolds(redactBackend(dst.backend), held);
    const header = dst.encryption === 'off' ? null : parseSodiumHeader((await firstLine(session.transport)) ?? '');
    let cipher: Cipher | undefined;
    if (header !== null) {
      const passphrase = await requirePassphrase(
        { passphraseFile: dst.passphraseFile },
        `to encrypt '${redactBackend(dst.backend)}'`,
      );
      const choice = { format: 'sodium', salt: header.salt, logId: header.logId } as const;
      cipher = await createHistoryCipher(passphrase, choice, { cacheDir: join(dst.cacheDir, 'keys') });
    }
    for (let i = 0; i < records.length; i += PUBLISH_WINDOW) {
      const window = records.slice(i, i + PUBLISH_WINDOW);
      await Promise.all(
        window.map((r) => {
          const plain = historyText([r]).trimEnd();
          return session.transport.publish(cipher ? cipher.encryptLine(plain, { seq: r.seq, user: r.user }) : plain, {
            id: randomUUID(),
            seq: r.seq,
          });
        }),
      );
      bar.update(i + window.length);
    }
    return cipher ? 'sodium' : 'plain';
  } finally {
    bar.done();
    await session.close();
  }
}
