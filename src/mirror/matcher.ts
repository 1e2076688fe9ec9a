import { createHash } from 'node:crypto';
import { DomainError } from '../core/errors';
import type { StrategyRecord } from '../core/engine/records';

/** A record read from the desktop file: its place among the file's records and where it ends. */
export interface FileRecord {
  /** 1-based place among the records the file's replay accepted (blank lines and comments skipped). */
  readonly ordinal: number;
  readonly record: StrategyRecord;
  /** The decrypted line, exactly as the file holds it: what the broker history gets. */
  readonly plain: string;
  /** Physical line number in the file, for messages. */
  readonly line: number;
  /** Byte offset just past the line. */
  readonly end: number;
}

/** What is kept of a broker record until the file's record at its place is read. */
interface BrokerRecord {
  readonly seq: number;
  readonly name: string;
  readonly digest: string;
}

/** Everything that makes two records the same record: number, instant (and its zone), who, what. */
export function recordDigest(r: StrategyRecord): string {
  const key = JSON.stringify([r.seq, r.when, r.zone ?? 0, r.user, r.name, r.params]);
  return createHash('sha256').update(key).digest('base64');
}

/**
 * Pairs the records of the desktop file with those of the broker history, place by place (the
 * n-th record each history accepted): the broker history is an exact copy while every pair is the
 * same record. The first pair that differs, or a broker record the whole file does not have, is
 * a divergence (`FK_HISTORY_DIVERGED`): from then on nothing more may be copied.
 */
export interface Matcher {
  /** The file follower read the next record of the file. */
  fileRead(r: FileRecord): void;
  /** The broker history accepted its next record. */
  brokerApplied(r: StrategyRecord): void;
  /** The file was read to its end: a broker record still unpaired is one the file does not have. */
  fileAtEnd(): void;
  /** The file's record at `ordinal`, if read and not yet paired. */
  fileRecord(ordinal: number): FileRecord | undefined;
  /** Records paired (the broker history's copied prefix). */
  readonly matched: number;
  /** Byte offset just past the last paired file record (0 before any). */
  readonly matchedEnd: number;
  /** Records the broker history accepted (paired or not). */
  readonly brokerCount: number;
  /** Broker records still waiting for the file's record at their place. */
  readonly brokerPending: number;
  /** File records read and not yet paired. */
  readonly filePending: number;
  readonly error: DomainError | null;
}

export function createMatcher(where: { file: string; broker: string }): Matcher {
  const files: FileRecord[] = [];
  const brokers: BrokerRecord[] = [];
  let matched = 0;
  let matchedEnd = 0;
  let brokerCount = 0;
  let error: DomainError | null = null;

  const diverged = (message: string): void => {
    error ??= new DomainError(
      'FK_HISTORY_DIVERGED',
      `the histories diverged: ${message}; nothing more is copied to '${where.broker}' ` +
        "(see 'fk mirror --help': start a new broker history, or restore the desktop file)",
    );
  };

  function pair(): void {
    while (error === null && files.length > 0 && brokers.length > 0) {
      const f = files[0] as FileRecord;
      const b = brokers[0] as BrokerRecord;
      if (recordDigest(f.record) !== b.digest) {
        diverged(
          `record ${f.ordinal} of the file (line ${f.line}: seq ${f.record.seq}, ${f.record.name}) is not ` +
            `record ${f.ordinal} of the broker history (seq ${b.seq}, ${b.name}); ` +
            'another writer used the broker history, or the file was rewritten ' +
            '(a repair or compaction in the desktop app)',
        );
        return;
      }
      files.shift();
      brokers.shift();
      matched++;
      matchedEnd = f.end;
    }
  }

  return {
    fileRead(r) {
      files.push(r);
      pair();
    },
    brokerApplied(r) {
      brokerCount++;
      brokers.push({ seq: r.seq, name: r.name, digest: recordDigest(r) });
      pair();
    },
    fileAtEnd() {
      if (error !== null || brokers.length === 0 || files.length > 0) return;
      const b = brokers[0] as BrokerRecord;
      diverged(
        `the broker history has ${brokerCount} records and the file only ${matched}: its record ${matched + 1} ` +
          `(seq ${b.seq}, ${b.name}) is not in '${where.file}' ` +
          '(another writer used the broker history, or the file was cut short or rewritten)',
      );
    },
    fileRecord(ordinal) {
      const f = files[ordinal - matched - 1];
      return f?.ordinal === ordinal ? f : undefined;
    },
    get matched() {
      return matched;
    },
    get matchedEnd() {
      return matchedEnd;
    },
    get brokerCount() {
      return brokerCount;
    },
    get brokerPending() {
      return brokers.length;
    },
    get filePending() {
      return files.length;
    },
    get error() {
      return error;
    },
  };
}
