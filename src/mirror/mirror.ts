import { join } from 'node:path';
import { closeSync, realpathSync } from 'node:fs';
import { encryptedFormatOf, type Cipher } from '../core/crypto';
import { FkError, InputError, TransportError } from '../core/errors';
import type { Logger } from '../core/logger';
import { redactBackend, type Config } from '../app/config';
import { createHistoryCipher } from '../app/historyCipher';
import { requirePassphrase } from '../app/passphrase';
import { backendKind, historyName, openSession, type Session } from '../app/session';
import { firstRecordLineFd } from '../transports/file';
import { createFileFollower, openDesktopFile, type FileFollower } from './fileFollower';
import { createMatcher, type Matcher } from './matcher';
import { openPositionStore, type PositionStore } from './position';

export interface MirrorOptions {
  /** The desktop app's data file (only read). */
  readonly from: string;
  /** The configuration of the broker history (`backend` is its `amqp://` or `xmpp://` URL). */
  readonly broker: Config;
  /** Where the position is kept (`$XDG_STATE_HOME/flowkeeper-headless/mirror`). */
  readonly stateDir: string;
  readonly logger: Logger;
  /** Records copied but not yet read back from the broker, at most. @default 200 */
  readonly window?: number;
  /** How often the file is looked at besides file-system events. @default 1000 */
  readonly pollMs?: number;
}

export interface MirrorStatus {
  /** Records of the file read so far. */
  readonly fileRecords: number;
  /** Records of the file the broker history holds (compared). */
  readonly copied: number;
  readonly brokerRecords: number;
  /** Every complete line of the file was read and is in the broker history. */
  readonly caughtUp: boolean;
}

export interface Mirror {
  /** Opens both histories, compares what the broker already holds, and starts copying. */
  start(): Promise<void>;
  /** Settles when the mirror stops by itself: with the error (divergence, a bad line, a broken history). */
  readonly failed: Promise<unknown>;
  status(): MirrorStatus;
  /** Stops copying, saves the position and closes the broker session. */
  stop(): Promise<void>;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;
const SAVE_EVERY_MS = 1000;

/**
 * `fk mirror`: keeps a broker history an exact copy of the desktop app's data file, live. The
 * file is only read; each of its records goes to the broker as it is (its seq, instant, user and
 * text; encrypted for the broker), one after the other, each only once the one before was stored.
 * The broker history says what it holds: at every start (and as it runs) its records are compared
 * place by place with the file's (`matcher.ts`), so a restart after a kill -9, a broker restart or
 * a desktop restart neither duplicates nor skips a record, and any difference stops the mirror
 * (`FK_HISTORY_DIVERGED`) instead of a guess. The position (`position.ts`) tells a file rewritten
 * while the mirror was stopped.
 */
export function createMirror(opts: MirrorOptions): Mirror {
  const log = opts.logger.child({ component: 'mirror' });
  const window = opts.window ?? 200;
  const broker = opts.broker;
  const where = { file: opts.from, broker: redactBackend(broker.backend) };
  let matcher: Matcher | null = null;
  let session: Session | null = null;
  let follower: FileFollower | null = null;
  let position: PositionStore | null = null;
  /** The desktop file, opened once at the start: everything read of it (records, position hash) is read here. */
  let fd: number | null = null;
  let stopped = false;
  let running = false;
  let again = false;
  let published = 0;
  let fileRecords = 0;
  let atEnd = false;
  let caughtUp = false;
  let retryMs = RETRY_MIN_MS;
  let retryTimer: NodeJS.Timeout | null = null;
  let lastSave = 0;
  let hasFailed = false;
  let fail!: (err: unknown) => void;
  const failed = new Promise<unknown>((resolve) => (fail = resolve));

  function stopWith(err: unknown): void {
    if (stopped) return;
    hasFailed = true;
    log.error({ err, code: err instanceof FkError ? err.code : undefined }, 'mirror stopped');
    void stop().finally(() => fail(err));
  }

  function schedule(): void {
    if (stopped || follower === null) return; // start() runs the first round once both are open
    if (running) {
      again = true;
      return;
    }
    void pump();
  }

  function savePosition(force: boolean): void {
    if (!position || !matcher || matcher.matched === 0) return;
    const t = Date.now();
    if (!force && t - lastSave < SAVE_EVERY_MS) return;
    lastSave = t;
    position.save(matcher.matched, matcher.matchedEnd);
  }

  /** One round: read what the window allows, compare, copy the next records; repeats while there is progress. */
  async function pump(): Promise<void> {
    const m = matcher as Matcher;
    const s = session as Session;
    const f = follower as FileFollower;
    running = true;
    try {
      // A round still copying when the mirror stops reads no more (the file's descriptor is closed).
      while (!stopped) {
        again = false;
        let progressed = false;
        if (m.filePending < window) {
          const before = fileRecords;
          atEnd = f.read(window - m.filePending, (r) => {
            fileRecords = r.ordinal;
            m.fileRead(r);
          }).atEnd;
          if (atEnd) m.fileAtEnd();
          progressed = fileRecords > before;
        }
        if (m.error) throw m.error;
        savePosition(false);
        reportCaughtUp(m);
        const k = Math.max(published, m.brokerCount) + 1;
        const next = m.brokerPending === 0 && k - m.matched <= window ? m.fileRecord(k) : undefined;
        if (next !== undefined && !stopped) {
          await s.client.publishCopy(next.plain, next.record);
          published = k;
          retryMs = RETRY_MIN_MS;
          continue;
        }
        if (!progressed && !again) break;
      }
    } catch (err) {
      if (isRetryable(err)) {
        log.warn({ err, retryInMs: retryMs }, 'broker unavailable; copying resumes when it is back');
        retryTimer = setTimeout(() => {
          retryTimer = null;
          schedule();
        }, retryMs);
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      } else stopWith(err);
    } finally {
      running = false;
    }
  }

  function reportCaughtUp(m: Matcher): void {
    const now = atEnd && m.matched === fileRecords && m.brokerPending === 0;
    if (now && !caughtUp) log.info({ records: m.matched, file: opts.from }, 'mirror caught up');
    caughtUp = now;
  }

  async function fileCipher(fd: number): Promise<Cipher | undefined> {
    const first = firstRecordLineFd(fd);
    const format = first === null ? null : encryptedFormatOf(first);
    if (format === null) return undefined;
    if (format !== 'fernet') {
      const what = `'${opts.from}' holds ${format} records, not a Flowkeeper data file`;
      throw new InputError('FK_INPUT_INVALID', `option '--from': ${what}`);
    }
    const why = `for the encrypted file '${opts.from}'`;
    const passphrase = await requirePassphrase({ passphraseFile: broker.passphraseFile }, why);
    return createHistoryCipher(passphrase, { format: 'fernet' }, { cacheDir: join(broker.cacheDir, 'keys') });
  }

  async function start(): Promise<void> {
    const kind = backendKind(broker.backend);
    if (kind === 'file') {
      const got = `got '${broker.backend}'`;
      throw new InputError('FK_INPUT_INVALID', `option '--to' must be a broker history (amqp://… or xmpp://…), ${got}`);
    }
    const file = realpathOf(opts.from);
    const desktop = openDesktopFile(opts.from);
    fd = desktop;
    try {
      position = openPositionStore({
        dir: opts.stateDir,
        key: `${file}\n${where.broker}\n${historyName(broker.user)}`,
        file: opts.from,
        fd: desktop,
        describe: `'${opts.from}' to '${where.broker}'`,
      });
      position.verify();
      const cipher = await fileCipher(desktop);
      const m = createMatcher(where);
      matcher = m;
      session = await openSession(broker, opts.logger, {
        onRecord: (r) => {
          m.brokerApplied(r);
          schedule();
        },
        onHistoryError: (err) => stopWith(err),
      });
      session.client.onStatus((st) => {
        if (st.kind === 'online') schedule();
      });
      const saved = position.saved;
      if (saved !== null && m.brokerCount < saved.records) {
        const msg = 'the broker history holds fewer records than were copied (re-created?): copying again';
        log.warn({ broker: m.brokerCount, copied: saved.records }, msg);
      }
      log.info({ file: opts.from, to: where.broker, brokerRecords: m.brokerCount }, 'mirror started');
      follower = createFileFollower({
        path: opts.from,
        fd: desktop,
        ...(cipher ? { cipher } : {}),
        onChange: schedule,
        pollMs: opts.pollMs ?? 1000,
      });
    } catch (err) {
      await stop();
      throw err;
    }
    await pump();
    if (hasFailed) throw await failed;
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    if (retryTimer) clearTimeout(retryTimer);
    follower?.close();
    try {
      if (matcher?.error === null) savePosition(true);
    } catch (err) {
      log.warn({ err }, 'position not saved');
    }
    await session?.close().catch((err: unknown) => log.warn({ err }, 'broker session close failed'));
    position?.close();
    if (fd !== null) closeSync(fd);
    fd = null;
  }

  return {
    start,
    failed,
    status: () => ({
      fileRecords,
      copied: matcher?.matched ?? 0,
      brokerRecords: matcher?.brokerCount ?? 0,
      caughtUp,
    }),
    stop,
  };
}

function realpathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch (err) {
    const why = (err as Error).message;
    throw new InputError('FK_INPUT_INVALID', `option '--from': cannot read '${path}': ${why}`, { cause: err });
  }
}

function isRetryable(err: unknown): boolean {
  if (!(err instanceof TransportError)) return false;
  return !['FK_TRANSPORT_CLOSED', 'FK_AUTH_FAILED', 'FK_ACCESS_DENIED'].includes(err.code);
}
