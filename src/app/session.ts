import { nodeCrypto } from '../core/nodeCrypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type Client, type ClientOptions, type Sequencing } from '../core/client';
import type { Cipher } from '../core/crypto';
import { formatSodiumHeader } from '../core/crypto/sodiumHeader';
import { InputError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { SnapshotStore } from '../core/snapshots';
import type { StrategyRecord } from '../core/engine/records';
import type { ReplayState } from '../core/engine/replay';
import { readLog } from '../core/readLog';
import type { Transport } from '../core/transport';
import { createFileTransport, readLines } from '../transports/file';
import { historyCreation, redactBackend, type Config } from './config';
import { detectEncryption, type DetectedEncryption } from './historyEncryption';
import type { CipherChoice } from './historyCipher';
import { historyName } from './historyName';
import { requirePassphrase, resolvePassphrase } from './passphrase';
import { createFileSnapshotStore, createReplicaSnapshotStore } from './snapshotStore';

export type BackendKind = 'file' | 'amqp' | 'xmpp';

export function backendKind(backend: string): BackendKind {
  if (/^amqps?:\/\//i.test(backend)) return 'amqp';
  if (/^xmpps?:\/\//i.test(backend)) return 'xmpp';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(backend)) {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `unsupported backend '${redactBackend(backend)}': use a file path, amqp://… or xmpp://…`,
    );
  }
  return 'file';
}

/** Builds the transport for a backend URL; broker transports are loaded only when used. */
export async function createTransportFor(
  config: Config,
  logger: Logger,
  opts: { follow?: boolean } = {},
): Promise<Transport> {
  const kind = backendKind(config.backend);
  if (kind === 'file') {
    const create = historyCreation(config);
    return createFileTransport({
      path: config.backend,
      logger,
      create,
      createHint: 'pass --create to start a new history there',
      ...(opts.follow === false ? { follow: false } : {}),
    });
  }
  if (kind === 'amqp') {
    const { createAmqpTransport } = await import('../transports/amqp');
    const { resolveAmqpSettings } = await import('./brokerOptions');
    const url = withPassword(config.backend, process.env.FK_AMQP_PASSWORD);
    const s = resolveAmqpSettings(config);
    const tls = {
      ...(s.ca ? { ca: s.ca } : {}),
      ...(s.cert ? { cert: s.cert } : {}),
      ...(s.key ? { key: s.key } : {}),
    };
    return createAmqpTransport(
      {
        url,
        history: historyName(config.user),
        retryLow: Math.min(1000, s.reconnectMaxMs),
        retryHigh: s.reconnectMaxMs,
        ...(s.heartbeatSeconds !== undefined ? { heartbeatSeconds: s.heartbeatSeconds } : {}),
        ...(s.maxAge !== undefined ? { maxAge: s.maxAge } : {}),
        ...(Object.keys(tls).length > 0 ? { tls } : {}),
        readOnly: config.readOnly === true,
      },
      { logger },
    );
  }
  const { createXmppTransportFromUrl } = await import('./xmppBackend');
  return createXmppTransportFromUrl(config, logger);
}

export { historyName };

function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const u = new URL(url);
  if (!u.password) u.password = password;
  return u.toString();
}

/**
 * Reads the start of a log until its encryption is decided (a sodium header or a record line
 * other than a sync server's seed), or to its end: never more than that.
 */
async function leadingEntries(transport: Transport): Promise<DetectedEncryption> {
  const lines: string[] = [];
  await readLog(transport, null, (e) => {
    lines.push(e.line);
    return detectEncryption(lines).decided;
  });
  return detectEncryption(lines);
}

/** The head of a history file: up to its first record line that is not a sync server's seed. */
function fileHead(path: string): DetectedEncryption {
  const head: string[] = [];
  if (existsSync(path)) readLines(path, (text) => head.push(text) > 0 && !detectEncryption(head).decided);
  return detectEncryption(head);
}

/** The cipher a file history needs: Fernet when a passphrase is configured or lines are encrypted. */
async function fileCipher(
  config: Config,
  head: DetectedEncryption,
): Promise<{ cipher?: Cipher; requireEncryption: boolean }> {
  if (config.encryption === 'off') return { requireEncryption: false };
  if (config.encryption === 'sodium') {
    throw new InputError(
      'FK_CONFIG_INVALID',
      `encryption 'sodium' is for broker backends; a file uses Flowkeeper's format ('fernet')`,
    );
  }
  const encrypted = head.encryption === 'fernet';
  const passphrase =
    encrypted || config.encryption === 'fernet'
      ? await requirePassphrase(
          { passphraseFile: config.passphraseFile },
          `for the encrypted history '${config.backend}'`,
        )
      : await resolvePassphrase({ passphraseFile: config.passphraseFile, input: { isTTY: false } as never });
  if (passphrase === null) return { requireEncryption: false };
  const cipher = await historyCipher(passphrase, { format: 'fernet' }, config);
  return { cipher, requireEncryption: encrypted || config.encryption === 'fernet' };
}

/**
 * The cipher of a broker history: our sodium envelope, keyed by the salt in the log's header; or
 * Flowkeeper's Fernet for a history a sync server (`fk serve`) opened with its plaintext seed,
 * since its protocol clients write Fernet lines and read nothing else.
 */
async function brokerCipher(
  config: Config,
  transport: Transport,
): Promise<{ cipher?: Cipher; requireEncryption: boolean }> {
  if (config.encryption === 'off') return { requireEncryption: false };
  const where = redactBackend(config.backend);
  const found = await leadingEntries(transport);
  const fernet = found.encryption === 'fernet' || (!found.decided && (found.seeded || config.encryption === 'fernet'));
  if (fernet) {
    if (config.encryption === 'sodium') {
      throw new InputError(
        'FK_CONFIG_INVALID',
        `the history at '${where}' ` +
          (found.decided ? 'holds Fernet records' : "was opened by a sync server ('fk serve')") +
          ': use --encryption fernet',
      );
    }
    const passphrase = await requirePassphrase(
      { passphraseFile: config.passphraseFile },
      `for the encrypted history at '${where}'`,
    );
    return {
      cipher: await historyCipher(passphrase, { format: 'fernet' }, config),
      requireEncryption: true,
    };
  }
  if (found.decided && found.header === null) {
    if (config.encryption !== 'auto') {
      throw new InputError(
        'FK_CONFIG_INVALID',
        `the history at '${where}' is not encrypted; use --encryption off to read it`,
      );
    }
    return { requireEncryption: false };
  }
  // Read-only on an empty history: nothing to decrypt, and no header may be written.
  if (found.header === null && config.readOnly === true) return { requireEncryption: false };
  const passphrase = await requirePassphrase(
    { passphraseFile: config.passphraseFile },
    `for the encrypted history at '${where}'`,
  );
  let header = found.header;
  if (header === null) {
    // The header carries a key check, so a reader with another passphrase is told so at once.
    const logId = nodeCrypto().randomUUID();
    const salt = new Uint8Array(nodeCrypto().randomBytes(16));
    const { getSodiumKey } = await import('./keyCache');
    const { sodiumKeyCheck } = await import('../core/crypto');
    const check = sodiumKeyCheck(await getSodiumKey(passphrase, salt, keyCache(config)), logId);
    const line = formatSodiumHeader({ logId, salt, check });
    await transport.publish(line, { id: nodeCrypto().randomUUID(), seq: 0 });
    header = (await leadingEntries(transport)).header;
    if (header === null) throw new InputError('FK_CONFIG_INVALID', 'the history header could not be written');
  }
  const choice = { format: 'sodium', salt: header.salt, logId: header.logId } as const;
  return { cipher: await historyCipher(passphrase, choice, config), requireEncryption: true };
}

/**
 * A history's cipher through the key cache. Loaded on first use: a command on a plaintext file
 * never pays for the key cache and the ciphers at start-up (`npm run bench startup`).
 */
async function historyCipher(
  passphrase: string,
  choice: CipherChoice,
  config: Config,
): Promise<Cipher> {
  const { createHistoryCipher } = await import('./historyCipher');
  return createHistoryCipher(passphrase, choice, keyCache(config));
}

/** The key cache of the configured cache directory. */
function keyCache(config: Config): { cacheDir: string } {
  return { cacheDir: join(config.cacheDir, 'keys') };
}

/** Where a session's model snapshots live: anchored in the file, or in a broker's replica. */
function snapshotStore(config: Config, kind: BackendKind, cipher: Cipher | undefined, logger: Logger): SnapshotStore {
  const dir = join(config.cacheDir, 'snapshots');
  const common = { dir, logger, ...(cipher ? { cipher } : {}) };
  return kind === 'file'
    ? createFileSnapshotStore({ ...common, path: config.backend, user: config.user })
    : createReplicaSnapshotStore({ ...common, key: `${config.backend}\n${config.user}` });
}

export interface Session {
  readonly client: Client;
  readonly transport: Transport;
  readonly kind: BackendKind;
  close(): Promise<void>;
}

/**
 * Connects a client to the configured backend and catches up with the history: the single place
 * that decides transport, sequencing rule, encryption and replica cache for a backend.
 */
export async function openSession(
  config: Config,
  logger: Logger,
  extra: {
    onRecord?: (r: StrategyRecord, s: ReplayState) => void;
    /** Told once when a log entry makes the history unusable (a daemon reports it at once). */
    onHistoryError?: ClientOptions['onHistoryError'];
    clock?: ClientOptions['clock'];
    /** Keep the session open on a broken history (read-only), e.g. for a daemon that reports it. */
    tolerateHistoryError?: boolean;
    /**
     * Whether to notice records that other processes append to a history file while the session
     * is open (file watch and poll). A command that reads once and closes needs not. @default true
     */
    follow?: boolean;
  } = {},
): Promise<Session> {
  const kind = backendKind(config.backend);
  const transport = await createTransportFor(config, logger, extra.follow === false ? { follow: false } : {});
  await transport.connect();
  let enc: { cipher?: Cipher; requireEncryption: boolean };
  let head: DetectedEncryption | null = null;
  try {
    head = kind === 'file' ? fileHead(config.backend) : null;
    enc = head !== null ? await fileCipher(config, head) : await brokerCipher(config, transport);
  } catch (err) {
    await transport.close();
    throw err;
  }
  // A file `fk serve` writes (its `# fk-serve` header) follows the protocol's rule, as its
  // clients do: the first record of a seq wins (docs/serve.md, racing encrypted clients).
  const sequencing: Sequencing = kind === 'file' && !head?.served ? 'strict' : 'race';
  // A broker history's local replica; a file is its own (loaded only for brokers: start-up cost).
  const replicas = kind === 'file' ? null : (await import('./replicaCache')).createReplicaCache;
  const client = createClient({
    transport,
    user: config.user,
    sequencing,
    logger,
    requireEncryption: enc.requireEncryption,
    ...(enc.cipher ? { cipher: enc.cipher } : {}),
    ...(replicas === null
      ? {}
      : { cache: replicas(join(config.cacheDir, 'replicas'), `${config.backend}\n${config.user}`) }),
    // Model snapshots, unless the caller wants to see every record (onRecord) as it is replayed.
    ...(extra.onRecord ? {} : { snapshots: snapshotStore(config, kind, enc.cipher, logger) }),
    ...(extra.onRecord ? { onRecord: extra.onRecord } : {}),
    ...(extra.onHistoryError ? { onHistoryError: extra.onHistoryError } : {}),
    ...(extra.clock ? { clock: extra.clock } : {}),
    delay: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  try {
    await client.start();
    // Flowkeeper refuses to work on a broken history (design point 6): so do we.
    if (client.historyError !== null && !extra.tolerateHistoryError) throw client.historyError;
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return { client, transport, kind, close: () => client.close() };
}
